from marshmallow import ValidationError, fields


class StrictBoolean(fields.Field):
    """true or false only: not "yes", 1 or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Must be a valid boolean (true or false).")
        return value
