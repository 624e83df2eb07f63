"""Pier's shared ground floor: what the API, the workers and the scripts all stand on."""
