"""One queue for scoring requests that groups concurrent ones into shared pipeline calls.

Generation holds one lock (the pipelines share a scheduler), so concurrent visitors wait for each other. A batch
is far cheaper per prompt than single prompts (8 prompts cost about 3.9x one, docs/images.md "Many visitors at
once"), so the requests that arrive while the model is busy and share its settings (steps, preset, guidance,
model) run as one batch when it is free, up to ``MAX_BATCH_PROMPTS`` prompts. The oldest waiting request always
goes in the next batch, so nobody is overtaken for long. A request never waits for company: when the model is
free it starts.

Each request keeps its own seed: every prompt's x_T is drawn from its own generator (``data.initial_latents``),
so a request's rewards and images are those it gets alone (``tests/test_images_cli.py`` checks it).

``ScoringQueue.status(job)`` tells a waiting request how many requests are ahead and about how long it will wait,
from a cost model of a batch, ``seconds = steps x (a + b x prompts)``, whose scale follows the batches measured.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from .inputs import PromptItem

#: prompts per shared batch, run as one pipeline call: on this 2-core CPU (1 torch thread, 20 steps) 1 prompt
#: took 1.42 s, 8 prompts 5.53 s and 16 prompts 7.63 s, so larger batches still pay (0.48 s a prompt at 16)
MAX_BATCH_PROMPTS = 16
#: seconds per denoising step of a batch, a + b x prompts (both samplers and the reward; 1 torch thread on this
#: 2-core CPU: 1 prompt x 50 steps 1.02 s, 8 prompts 4.72 s); scaled by the batches measured
STEP_SECONDS = (0.0098, 0.0106)


@dataclass
class Job:
    """One request: its prompts and settings, where it stands, and (once done) its results or error."""

    items: List[PromptItem]
    seed: int
    n_steps: int
    preset: str
    guidance_scale: float
    model: Optional[str] = None
    submitted: float = field(default_factory=time.perf_counter)
    state: str = "waiting"
    """waiting, running or done"""
    fraction: float = 0.0
    """of its batch's denoising steps done"""
    started: Optional[float] = None
    batch_requests: int = 0
    """requests in its batch (itself included)"""
    results: Optional[Dict] = None
    error: Optional[BaseException] = None
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def key(self) -> tuple:
        """Requests with the same key can share a pipeline call."""
        return self.n_steps, self.preset, float(self.guidance_scale), self.model


class ScoringQueue:
    """Runs scoring requests one batch at a time on a worker thread, grouping requests with the same settings.

    ``score`` has ``demo.score_items``'s signature (items, seeds=, n_steps=, preset=, guidance_scale=, model=,
    progress=, batch_size=). With ``batching=False`` every request runs alone (the benchmark's baseline)."""

    def __init__(self, score: Optional[Callable[..., Dict]] = None, max_prompts: int = MAX_BATCH_PROMPTS,
                 batching: bool = True):
        self._score = score
        self.max_prompts = max_prompts
        self.batching = batching
        self._pending: List[Job] = []
        self._running: List[Job] = []
        self._condition = threading.Condition()
        self._worker: Optional[threading.Thread] = None
        self._speed = 1.0  # measured / modelled seconds, smoothed

    # ------------------------------------------------------------------ requests
    def submit(self, items: Sequence[PromptItem], *, seed: int, n_steps: int, preset: str,
               guidance_scale: float, model: Optional[str] = None) -> Job:
        job = Job(list(items), seed, n_steps, preset, guidance_scale, model)
        with self._condition:
            self._pending.append(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="images-scoring", daemon=True)
                self._worker.start()
            self._condition.notify_all()
        return job

    def status(self, job: Job) -> Dict:
        """{"state", "ahead": requests before it (running ones included), "eta_s": seconds until it is done,
        "fraction": of its batch done, "batch_requests"}."""
        with self._condition:
            remaining = sum(self.batch_seconds(self._running) * (1 - j.fraction) for j in self._running[:1])
            if job.state == "running":
                return {"state": "running", "ahead": 0, "eta_s": remaining, "fraction": job.fraction,
                        "batch_requests": job.batch_requests}
            if job.state == "done":
                return {"state": "done", "ahead": 0, "eta_s": 0.0, "fraction": 1.0,
                        "batch_requests": job.batch_requests}
            ahead = len(self._running)
            pending = list(self._pending)
            eta = remaining
            while pending:
                group = self._next_group(pending)
                eta += self.batch_seconds(group)
                if job in group:
                    break
                ahead += len(group)
                pending = [j for j in pending if j not in group]
            return {"state": "waiting", "ahead": ahead, "eta_s": eta, "fraction": 0.0, "batch_requests": 0}

    def wait(self, job: Job, report: Optional[Callable[[Dict], None]] = None, every_s: float = 0.5) -> Dict:
        """Block until ``job`` is done, calling ``report(status)`` every ``every_s`` seconds; its results, or its
        error raised again."""
        while not job.finished.wait(every_s):
            if report is not None:
                report(self.status(job))
        if job.error is not None:
            raise job.error
        return job.results

    def score(self, items: Sequence[PromptItem], **settings) -> Dict:
        """Submit and wait (no reports)."""
        return self.wait(self.submit(items, **settings))

    # ------------------------------------------------------------------ batches
    def batch_seconds(self, group: Sequence[Job]) -> float:
        """Modelled seconds of one batch (the cost model above, scaled by the batches measured so far)."""
        if not group:
            return 0.0
        a, b = STEP_SECONDS
        prompts = sum(len(j.items) for j in group)
        calls = -(-prompts // self.max_prompts)  # one pipeline call per max_prompts prompts
        return self._speed * group[0].n_steps * (a * calls + b * prompts)

    def _next_group(self, pending: Sequence[Job]) -> List[Job]:
        """The oldest request and the later ones with its settings that fit beside it."""
        first = pending[0]
        group, prompts = [first], len(first.items)
        if self.batching:
            for job in pending[1:]:
                if job.key == first.key and prompts + len(job.items) <= self.max_prompts:
                    group.append(job)
                    prompts += len(job.items)
        return group

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._pending:
                    self._condition.wait()
                group = self._next_group(self._pending)
                self._pending = [j for j in self._pending if j not in group]
                self._running = group
                now = time.perf_counter()
                for job in group:
                    job.state, job.started, job.batch_requests = "running", now, len(group)
            modelled = self.batch_seconds(group) / self._speed
            began = time.perf_counter()
            try:
                self._run(group)
            except BaseException as error:  # noqa: BLE001 - handed to every request of the batch
                for job in group:
                    job.error = error
            seconds = time.perf_counter() - began
            with self._condition:
                if modelled > 0 and all(j.error is None for j in group):
                    self._speed = 0.7 * self._speed + 0.3 * seconds / modelled
                self._running = []
                for job in group:
                    job.state, job.fraction = "done", 1.0
                    job.finished.set()

    def _run(self, group: List[Job]) -> None:
        score = self._score
        if score is None:
            from .examples import score_items as score
        first = group[0]
        items = [item for job in group for item in job.items]
        seeds = [job.seed for job in group for _ in job.items]

        def progress(done, total=None, *args, **kwargs):
            fraction = float(done) / float(total) if total else float(done)
            for job in group:
                job.fraction = min(max(fraction, 0.0), 1.0)

        results = score(items, seeds=seeds, n_steps=first.n_steps, preset=first.preset,
                        guidance_scale=first.guidance_scale, model=first.model, progress=progress,
                        batch_size=self.max_prompts)
        start = 0
        for job in group:
            rows = results["rows"][start:start + len(job.items)]
            start += len(job.items)
            job.results = {**results, "settings": {**results["settings"], "seed": job.seed}, "rows": rows,
                           "waited_s": round(job.started - job.submitted, 3), "batched_with": len(group) - 1}


def describe_status(status: Dict, n_prompts: int) -> str:
    """One line for a status bar: where a request stands and how long it should take."""
    eta = f"about {status['eta_s']:.0f} s" if status["eta_s"] >= 1 else "under a second"
    if status["state"] == "waiting":
        ahead = status["ahead"]
        return (f"waiting for the model: {ahead} request{'s' if ahead != 1 else ''} ahead; done in {eta}"
                if ahead else f"starting; done in {eta}")
    together = status["batch_requests"] - 1
    batch = f" in one batch with {together} other request{'s' if together != 1 else ''}" if together > 0 else ""
    return f"scoring {n_prompts} prompt{'s' if n_prompts != 1 else ''}{batch}; {eta} left"


__all__ = ["ScoringQueue", "Job", "MAX_BATCH_PROMPTS", "describe_status"]
