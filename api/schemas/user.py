from marshmallow import Schema, ValidationError, fields, validate, validates

from api.http import when
from api.schemas.fields import StrictBoolean
from core import validators

PASSWORD = fields.String(required=True, validate=validate.Length(min=1, max=1024), load_only=True)


class RegisterSchema(Schema):
    username = fields.String(required=True)
    password = PASSWORD
    email = fields.Email(required=True, validate=validate.Length(max=254))
    first_name = fields.String(load_default="", validate=validate.Length(max=150))
    last_name = fields.String(load_default="", validate=validate.Length(max=150))

    @validates("username")
    def check_username(self, value, **kwargs):
        try:
            validators.username(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(max=150))
    password = PASSWORD


class CancelSchema(Schema):
    username = fields.String(validate=validate.Length(max=150))


class TokensSchema(Schema):
    username = fields.String(validate=validate.Length(max=150))
    all = StrictBoolean()


class PasswdSchema(Schema):
    username = fields.String(validate=validate.Length(max=150))
    password = fields.String(validate=validate.Length(max=1024))
    new_password = PASSWORD


class UsernameSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=150))


def dump_user(user):
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "last_login": when(user.last_login),
        "date_joined": when(user.date_joined),
        "groups": [],
        "user_permissions": [],
    }
