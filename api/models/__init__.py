from api.models.app import App, Collaborator
from api.models.appsettings import TLS, AppSettings
from api.models.domain import Certificate, Domain
from api.models.event import AppEvent
from api.models.key import Key
from api.models.operation import Operation
from api.models.release import Build, Config, Release
from api.models.user import Token, User

__all__ = ["App", "AppEvent", "AppSettings", "Build", "Certificate", "Collaborator", "Config", "Domain",
           "Key", "Operation", "Release", "TLS", "Token", "User"]
