"""A twistd plugin: the fast poetry server as the command `twistd fastpoetry`.

twistd looks for plugins in every folder named twisted/plugins on the
Python path, so put this file's grandparent folder on it.  From the
repository's top folder:

    PYTHONPATH=code/twisted-server-daemon twistd fastpoetry --help
    PYTHONPATH=code/twisted-server-daemon \
        twistd -n fastpoetry --port 10001 code/poetry/science.txt

Do not add an __init__.py to twisted/ or twisted/plugins/ here: the
folders must not be packages of their own, or they would hide Twisted.
"""

from pathlib import Path

from fastpoetry import PoetryService
from twisted.application.service import IService, IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


def port_number(text: str) -> int:
    """A port to listen on, from 0 to 65535; 0 lets the system pick one."""
    port = int(text)
    if not 0 <= port <= 65535:  # usage.Options turns a ValueError into a usage error
        raise ValueError(f"not a port number from 0 to 65535: {text!r}")
    return port


class Options(usage.Options):
    """The command line of `twistd fastpoetry`: the same as chapter 10's server."""

    synopsis = "[options] poem"
    optParameters = [
        ["port", None, 0, "Port to listen on; 0 lets the system pick one.",
         port_number],
        ["iface", None, "127.0.0.1", "Interface to listen on."],
    ]

    def parseArgs(self, poem: str) -> None:
        self["poem"] = Path(poem)


@implementer(IServiceMaker, IPlugin)
class FastPoetryServiceMaker:
    """What twistd asks for a plugin: a name, a description, options, and a service."""

    tapname = "fastpoetry"
    description = "A fast poetry server."
    options = Options

    def makeService(self, options: Options) -> IService:
        poetry = PoetryService(options["poem"], options["port"], options["iface"])
        poetry.setName("poetry")
        return poetry


serviceMaker = FastPoetryServiceMaker()
