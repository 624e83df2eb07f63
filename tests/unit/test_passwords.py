"""The rules a new password must meet, and hashing."""
import pytest

from core.passwords import check_password, check_password_of_nobody, hash_password, password_problem


@pytest.mark.parametrize("password, problem", [
    ("", "Ensure this field has at least 8 characters."),
    ("1234567", "Ensure this field has at least 8 characters."),
    ("password", "This password is too common."),
    ("PassWord", "This password is too common."),
    ("football", "This password is too common."),
    ("ada-lovelace", "The password cannot be the username."),
    ("Ada-Lovelace", "The password cannot be the username."),
    ("a long passphrase", None),
    ("correct horse battery staple", None),
])
def test_password_problems(password, problem):
    assert password_problem(password, 8, username="ada-lovelace") == problem


def test_the_minimum_length_is_the_callers():
    assert password_problem("abc", 3) is None
    assert password_problem("abcdefghijk", 12) == "Ensure this field has at least 12 characters."


def test_hashes_are_argon2id_and_verify():
    stored = hash_password("a long passphrase")
    assert stored.startswith("$argon2id$")
    assert check_password(stored, "a long passphrase") and not check_password(stored, "another one")
    assert not check_password("not a hash", "a long passphrase")


def test_nobodys_password_never_matches():
    assert check_password_of_nobody("a password nobody has: it only makes a miss cost what a hit costs") is False
