from core.models.app import App, Collaborator
from core.models.appsettings import TLS, AppSettings
from core.models.domain import Certificate, Domain
from core.models.event import AppEvent
from core.models.key import Key
from core.models.operation import Operation
from core.models.release import Build, Config, Release
from core.models.user import Token, User

__all__ = ["App", "AppEvent", "AppSettings", "Build", "Certificate", "Collaborator", "Config", "Domain",
           "Key", "Operation", "Release", "TLS", "Token", "User"]
