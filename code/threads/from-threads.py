"""Between the reactor's thread and a pool thread, in both directions.

Three short scenes, each line saying which thread ran the code that
printed it:

1. callInThread() runs a function in a pool thread and gives nothing
   back; the function sends its result back with callFromThread().
2. A function in a pool thread asks the reactor for something with
   blockingCallFromThread(), and waits for the answer, Deferred and all.
3. deferToThread(), and a cancel() that comes too soon: the Deferred
   fails at once, the thread runs on, and its result is dropped.

Every line is printed by the reactor's thread: a pool thread hands what
it has to say to callFromThread(), so the lines come in a fixed order.

    python code/threads/from-threads.py
"""

import argparse
import threading
import time

from twisted.internet import reactor, task, threads
from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure

POEM = "Tyger Tyger, burning bright, In the forests of the night"


def where() -> str:
    """Which thread is running this: the reactor's, or one of the pool's.

    The reactor runs in the main thread, the one that called reactor.run().
    """
    if threading.current_thread() is threading.main_thread():
        return "the reactor's thread"
    return "a pool thread"


def say(text: str) -> None:
    """Print a line from any thread: the reactor's thread does the printing."""
    reactor.callFromThread(print, text)


# 1. callInThread() and callFromThread()

def count_words(poem: str, done: Deferred) -> None:
    count = len(poem.split())
    say(f"count_words runs in {where()}; it counts {count} words.")
    reactor.callFromThread(report_count, count, done)


def report_count(count: int, done: Deferred) -> None:
    print(f"report_count runs in {where()}, with the count: {count}.")
    done.callback(None)  # safe here: this is the reactor's thread


# 2. blockingCallFromThread()

def title_in_a_while() -> Deferred:
    print(f"title_in_a_while runs in {where()}; it returns a Deferred.")
    return task.deferLater(reactor, 0.1, lambda: "The Tyger")


def ask_for_the_title() -> str:
    say(f"ask_for_the_title runs in {where()}; it asks the reactor, and waits.")
    title = threads.blockingCallFromThread(reactor, title_in_a_while)
    say(f"ask_for_the_title has its answer, {title!r}, in {where()}.")
    return title


# 3. deferToThread() and cancel()

def look_up(word: str) -> list[str]:
    time.sleep(0.2)  # a blocking library at work
    say(f"look_up runs on in {where()}, and returns its answer after all.")
    return ["light", "night"]


def dropped(reason: Failure) -> None:
    reason.trap(CancelledError)
    print(f"The errback runs in {where()}: {reason.type.__name__}.")


async def scenes(reactor) -> None:
    print("1. callInThread() and callFromThread()")
    done: Deferred[None] = Deferred()
    print(f"main runs in {where()}, and calls callInThread(count_words, ...).")
    reactor.callInThread(count_words, POEM, done)
    await done

    print("2. blockingCallFromThread()")
    title = await threads.deferToThread(ask_for_the_title)
    print(f"deferToThread's Deferred fires in {where()}, with {title!r}.")

    print("3. deferToThread() and cancel()")
    reactor.suggestThreadPoolSize(1)  # one thread: the pool's jobs run in turn
    d = threads.deferToThread(look_up, "bright")
    d.addErrback(dropped)
    print("main calls d.cancel() at once.")
    d.cancel()
    print("d.cancel() has returned.")
    await threads.deferToThread(time.sleep, 0)  # waits for the one thread
    print("The pool's thread is free again; look_up's answer was dropped.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    return parser.parse_args()


def main() -> None:
    parse_args()
    task.react(lambda reactor: Deferred.fromCoroutine(scenes(reactor)))


if __name__ == "__main__":
    main()
