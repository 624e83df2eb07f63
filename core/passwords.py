"""Password hashing (Argon2id) and the rules a new password must meet."""
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password):
    return _hasher.hash(password)


def check_password(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash():
    return _hasher.hash("a password nobody has: it only makes a miss cost what a hit costs")


def check_password_of_nobody(password):
    """The cost of one verification with no user to verify against, so that a login for an unknown username
    takes as long as one with a wrong password: the answer time does not tell which usernames exist."""
    check_password(_dummy_hash(), password)
    return False


@functools.cache
def _common_passwords():
    # zxcvbn's list of the 30,000 most frequent passwords from leaked sets (lower case), loaded at first use
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password, min_length, username=""):
    """Why a new password is refused, or None. Existing passwords are never checked again: a user whose
    password predates a rule still logs in with it."""
    if len(password) < min_length:
        return f"Ensure this field has at least {min_length} characters."
    if password.lower() in _common_passwords():
        return "This password is too common."
    if username and password.lower() == username.lower():
        return "The password cannot be the username."
    return None
