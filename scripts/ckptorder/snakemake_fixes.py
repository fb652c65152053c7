"""Two fixes to Snakemake 9.27's own process, called from the Snakefile's handlers. Each says
what it did, so that a test can tell when a Snakemake upgrade makes it a silent no-op."""

import signal
import threading


def cancel_rescheduling_timers():
    """Let Snakemake exit as soon as the workflow ends. Each time its scheduler starts jobs it
    arms a one-second threading.Timer to re-check its job rate limit (--max-jobs-per-timespan
    takes whole seconds at least); the last one keeps a finished run alive for that second,
    with nothing left to schedule. Returns how many it cancelled."""
    timers = [
        thread
        for thread in threading.enumerate()
        if isinstance(thread, threading.Timer)
        and getattr(getattr(thread, "function", None), "__module__", "").startswith(
            "snakemake.scheduling"
        )
    ]
    for timer in timers:
        timer.cancel()
    return len(timers)


def handle_sigterm_in_a_thread():
    """Keep SIGTERM from hanging Snakemake. Its handler takes the scheduler's lock, and a
    handler runs in the main thread: when the signal comes while the main thread holds that
    lock (choosing jobs, say), the handler waits for itself forever. Run in a thread of its
    own, the handler waits until the main thread lets the lock go. Returns the handler it
    moved into a thread, None if there was none to move."""
    handler = signal.getsignal(signal.SIGTERM)
    if not callable(handler):
        return None
    signal.signal(
        signal.SIGTERM,
        lambda *args: threading.Thread(target=handler, args=args, daemon=True).start(),
    )
    return handler
