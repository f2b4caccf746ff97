"""Chapter 14, exercise 1: several poems from one twistd, each on its own port.

`twistd poems` takes any number of poem files.  Its service is a
MultiService with one PoetryService per poem, named after the poem's
file, so that `getServiceNamed("science")` finds the one serving
science.txt.  Each listens on a port of its own, picked by the system,
and logs it.  From the repository's top folder:

    PYTHONPATH=code/twisted-server-daemon:code/solutions/ch14-several-poems \\
        twistd -n poems code/poetry/science.txt code/poetry/tyger.txt
"""

from pathlib import Path

from fastpoetry import PoetryService
from twisted.application.service import IServiceMaker, MultiService
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


class Options(usage.Options):
    """`twistd poems [--iface ADDRESS] poem...`"""

    synopsis = "[options] poem..."
    optParameters = [["iface", None, "127.0.0.1", "Interface to listen on."]]

    def parseArgs(self, *poems: str) -> None:
        if not poems:
            raise usage.UsageError("Name at least one poem.")
        paths = [Path(poem) for poem in poems]
        names = [path.stem for path in paths]
        for name in names:
            if names.count(name) > 1:
                raise usage.UsageError(f"Two poems are named {name}.")
        self["poems"] = paths


@implementer(IServiceMaker, IPlugin)
class PoemsServiceMaker:
    tapname = "poems"
    description = "Several fast poetry servers in one process."
    options = Options

    def makeService(self, options: Options) -> MultiService:
        poems = MultiService()
        for path in options["poems"]:
            poetry = PoetryService(path, 0, options["iface"])
            poetry.setName(path.stem)  # unique among the parent's children
            poetry.setServiceParent(poems)
        return poems


serviceMaker = PoemsServiceMaker()
