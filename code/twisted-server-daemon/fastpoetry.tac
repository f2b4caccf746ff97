"""The fast poetry server as a twistd application.

twistd runs this file as Python and takes from it one variable,
`application`.  A .tac file takes no command-line options; this one reads
two environment variables instead:

    POETRY_FILE   the poem to serve (default: code/poetry/science.txt)
    POETRY_PORT   the port to listen on (default: 0, the system picks one)

Run it in the foreground, from the repository's top folder:

    PYTHONPATH=code/twisted-server-daemon \
        twistd -n -y code/twisted-server-daemon/fastpoetry.tac
"""

import os
from pathlib import Path

from twisted.application import service

from fastpoetry import PoetryService

poem = Path(os.environ.get("POETRY_FILE", "code/poetry/science.txt"))
port_text = os.environ.get("POETRY_PORT", "0")
if not port_text.isdigit() or int(port_text) > 65535:
    # twistd prints the message and exits with status 1.
    raise SystemExit("POETRY_PORT: not a port number from 0 to 65535:"
                     f" {port_text!r}")
port = int(port_text)

application = service.Application("fastpoetry")
poetry = PoetryService(poem, port)
poetry.setName("poetry")
poetry.setServiceParent(application)
