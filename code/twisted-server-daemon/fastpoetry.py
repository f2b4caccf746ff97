"""The fast poetry server of chapter 10, as a service for twistd.

This module is not a program that you run.  It holds the server's
protocol and factory, which now log with twisted.logger instead of
printing, and PoetryService, which reads the poem and starts listening
when it is started, and stops listening when it is stopped.  Two other
files in this folder hand the service to twistd:

- fastpoetry.tac, an application that twistd loads with -y;
- twisted/plugins/fastpoetry_plugin.py, a plugin that gives twistd a
  `fastpoetry` command.

Run either from the repository's top folder, with this folder on the
Python path:

    PYTHONPATH=code/twisted-server-daemon \
        twistd -n -y code/twisted-server-daemon/fastpoetry.tac
    PYTHONPATH=code/twisted-server-daemon \
        twistd -n fastpoetry --port 10001 code/poetry/science.txt
"""

from pathlib import Path

from twisted.application import service
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure


class PoetryProtocol(Protocol):
    """One connection: send the poem, then hang up."""

    factory: "PoetryFactory"
    log = Logger()

    def connectionMade(self) -> None:
        self.factory.connections += 1
        self.number = self.factory.connections  # this connection's own number
        peer = self.transport.getPeer()
        self.log.info("Connection {number} from {host}.",
                      number=self.number, host=peer.host)
        self.transport.write(self.factory.poem)  # buffered: returns at once
        self.transport.loseConnection()  # once the buffer has been written

    def connectionLost(self, reason: Failure) -> None:
        from twisted.internet import reactor  # twistd's, installed and running by now

        if not reactor.running:
            return  # SIGTERM or Ctrl-C: the server is shutting down, no client hung up
        if reason.check(ConnectionDone):
            self.log.info("Connection {number}: sent {size} bytes.",
                          number=self.number, size=len(self.factory.poem))
        else:
            self.log.warn("Connection {number}: lost: {why}",
                          number=self.number, why=reason.getErrorMessage())


class PoetryFactory(ServerFactory):
    """What all the connections share: the poem, and a count of connections."""

    protocol = PoetryProtocol
    noisy = False  # no "Starting factory" lines: the service logs what matters

    def __init__(self, poem: bytes) -> None:
        self.poem = poem
        self.connections = 0  # connections so far, counted by the protocols


class PoetryService(service.Service):
    """Serve a poem on a TCP port for as long as the service runs.

    Starting the service reads the poem, listens, and logs the address;
    stopping it stops listening.  If it cannot start, it raises, and
    twistd reports the error instead of running a server that serves
    nothing.
    """

    log = Logger()

    def __init__(self, poem: Path, port: int = 0, iface: str = "127.0.0.1") -> None:
        self.poem = poem
        self.port = port
        self.iface = iface
        self.listening: IListeningPort | None = None  # while the service runs

    def startService(self) -> None:
        from twisted.internet import reactor  # the reactor twistd chose and installed

        factory = PoetryFactory(self.poem.read_bytes())
        self.listening = reactor.listenTCP(self.port, factory, interface=self.iface)
        address = self.listening.getHost()
        self.log.info("Serving {poem} on {host}:{port}.",
                      poem=self.poem, host=address.host, port=address.port)
        super().startService()  # running = 1, now that it really is running

    def stopService(self) -> Deferred[None] | None:
        super().stopService()
        if self.listening is None:
            return None
        listening, self.listening = self.listening, None
        return listening.stopListening()  # fires once the port is closed
