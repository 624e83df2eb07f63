"""The `pier` command-line client: Deis Workflow's command syntax against Pier's controller."""
VERSION = "2.3.0"
API_VERSION = "2.3"
