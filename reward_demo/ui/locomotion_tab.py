"""The Locomotion tab: the unsteered base diffusion planner and the same planner steered by the learned
relative reward, run from the same seed side by side on Hopper / HalfCheetah / Walker2d (gymnasium v5,
MuJoCo): a headline comparing them (return, distance, steps survived), two videos, the cumulative environment
return of both over time, the learned reward along each executed trajectory, and the raw numbers (JSON).

API endpoints (every event has an ``api_name``; see ``build_tab``):

``locomotion_run(env, scale, t_stopgrad, seed, steps, reward) -> (base video, steered video, returns plot, reward
plot, summary, headline, status)``: a generator; the browser sees the curves so far every couple of seconds, the
videos at the end; ``Client.predict`` returns the finished run. ``reward``: "paper" (the paper's offline reward,
the default) or "onpolicy" (this project's on-policy fine-tuned extension, where the env has one); the summary and
the headline name it.
``locomotion_example(env) -> (scale, t_stopgrad, seed, steps, base video, steered video, returns plot, reward plot,
summary, headline, status, reward, reward note)``: the precomputed run shipped in ``assets/locomotion/`` (instant;
also shown on page load) and the reward it was made with (the Reward choice, with the env's rewards as its
choices); the episode length is set to the interactive default, not the example's.
``locomotion_select_env(env) -> (same as locomotion_example)``: loads the env's models (once per process), resets
the controls to its defaults and shows its example.
``locomotion_select_reward(env, reward) -> (scale, t_stopgrad, reward note)``: resets the steering controls to the
setting that reward is meant for (its guidance comes with the reward) and says what the reward is.
``locomotion_cancel() -> (headline, status)``: stops this session's run, which then ends by yielding the same
(headline, status); its results so far stay shown. (An API client can also cancel its own job.)

Only environments whose checkpoints exist are offered. The runs, the input checks and what is said about a
run live in ``reward_demo.locomotion.demo`` / ``demo_results``; this module lays out and wires the events to the
``LocomotionDemo`` service it is given (``build_tab(service)``; the handlers are the methods of
``LocomotionHandlers``, callable without a server). Bad input raises ``gr.Error`` naming the input and what is
allowed.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict, Optional

import gradio as gr

from ..locomotion.demo import (
    DEFAULT_REWARD,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    ENVS,
    GYM_IDS,
    MAX_SCALE,
    MAX_STEPS,
    MIN_STEPS,
    TRAIN_COMMAND,
    UPDATE_EVERY_S,
    LocomotionDemo,
    check_env,
)
from ..locomotion.demo_results import REWARD_TEXT, headline, reward_label, reward_note, summary_json
from .errors import RunCancelled, checked_by_handler, user_errors
from .locomotion_plots import figures


@dataclass
class _Run:
    """A run in flight: what Cancel says about it, and how Cancel stops it (an API client's cancel call too,
    which Gradio's own ``cancels`` does not reach)."""

    env: str
    settings: dict
    summaries: Optional[Dict[str, dict]] = None  # of the last update shown
    step: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def cancelled(self) -> tuple:
        """(headline, status) once cancelled."""
        if not self.summaries:
            return gr.skip(), "Run cancelled before its first results: the results shown are the earlier ones."
        return (headline(self.env, self.summaries, self.settings, "cancelled", self.step),
                f"Run cancelled at step {self.step} of {self.settings['steps']}: its results so far are kept.")


def _event_alive() -> bool:
    """False once the Gradio event this thread works for has been cancelled (or its client went away).

    Gradio cancels the event's asyncio task, but a synchronous handler runs on in its worker thread; the queue
    drops a cancelled event from its active jobs, which is what this checks. Outside a Gradio event: True."""
    try:
        from gradio.context import LocalContext

        blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
        queue = getattr(blocks, "_queue", None) if blocks is not None else None
        if queue is None or not event_id:
            return True
        return any(evt._id == event_id for job in list(queue.active_jobs) if job for evt in job)
    except Exception:  # a Gradio internals change must not break runs
        return True


def _checker(stop: threading.Event):
    def check() -> None:
        if stop.is_set() or not _event_alive():
            raise RunCancelled()

    return check


def _session(request: Optional[gr.Request]) -> str:
    return getattr(request, "session_hash", None) or ""


@user_errors
def _next_update(stream):
    """The stream's next update, None once it has ended (its errors become ``gr.Error``)."""
    return next(stream, None)


# ------------------------------------------------------------------ handlers (one per API endpoint)
class LocomotionHandlers:
    """The tab's event handlers, on the ``LocomotionDemo`` they are given; callable without a server."""

    def __init__(self, service: LocomotionDemo):
        self.service = service
        #: {session: its run in flight}
        self.runs_in_flight: Dict[str, _Run] = {}

    @user_errors
    def _start_run(self, env, scale, t_stopgrad, seed, steps, reward, report):
        stop = threading.Event()
        env, settings, stream = self.service.start_run(env, scale, t_stopgrad, seed, steps, reward,
                                                       check=_checker(stop), progress=report)
        return _Run(env, settings, stop=stop), stream

    def run(self, env, scale, t_stopgrad, seed, steps, reward=DEFAULT_REWARD, request: gr.Request = None,
            progress=gr.Progress()):
        """locomotion_run: base and steered planner from the same seed, steered by ``reward`` ("paper" or
        "onpolicy"); yields (base video, steered video, returns plot, learned-reward plot, summary, headline,
        status) as the run goes (the videos only at the end)."""
        progress(0.0, desc="loading the models")

        def report(description, done, total, unit):
            progress((done, total), desc=description, unit=unit)

        state, stream = self._start_run(env, scale, t_stopgrad, seed, steps, reward, report)
        env, settings = state.env, state.settings
        session = _session(request)
        self.runs_in_flight[session] = state
        stopped_from_outside = False
        try:
            while True:
                try:
                    update = _next_update(stream)
                except gr.Error:
                    if not state.stop.is_set() and _event_alive():
                        raise
                    # cancelled: say so, keep the rest. Gradio's ``cancels`` may drop this event before the Cancel
                    # handler runs; the run then stays listed, so that the handler still finds and reports it
                    stopped_from_outside = not state.stop.is_set()
                    yield (*[gr.skip()] * 5, *state.cancelled())
                    return
                if update is None:
                    break
                summaries = {p: e.summary() for p, e in update.episodes.items()}
                state.summaries, state.step = summaries, update.step
                plots = figures(env, {p: e.curves() for p, e in update.episodes.items()}, settings["steps"])
                if not update.finished:
                    summary = summary_json(env, settings, summaries, steps_done=update.step, example=False)
                    # the status line is cleared under its progress bar (the last run's message would show through)
                    yield (gr.skip(), gr.skip(), *plots, summary, headline(env, summaries, settings, "running",
                                                                          update.step), "")
                    continue
                seconds = {"planning": round(update.planning_s, 2), "rendering": round(update.rendering_s, 2)}
                yield (update.videos["base"], update.videos["steered"], *plots,
                       summary_json(env, settings, summaries, seconds=seconds, example=False),
                       headline(env, summaries, settings, "finished"),
                       f"Finished: planned in {update.planning_s:.0f} s, videos rendered in "
                       f"{update.rendering_s:.0f} s.")
        finally:
            # a run stopped from outside stays listed for the Cancel handler; the session's next run replaces it and
            # the page's unload (``forget_session``) drops it
            if self.runs_in_flight.get(session) is state and not stopped_from_outside:
                del self.runs_in_flight[session]

    @user_errors
    def cancel_run(self, request: gr.Request = None):
        """locomotion_cancel: stop this session's run and say so; its results so far stay shown."""
        state = self.runs_in_flight.pop(_session(request), None)
        if state is None:
            return gr.skip(), "No run in progress to cancel."
        state.stop.set()
        outputs = state.cancelled()
        gr.Info(outputs[1])
        return outputs

    def forget_session(self, request: gr.Request = None):
        """On the page's unload (closed or reloaded: no Cancel will come): stop this session's run, if any, and drop
        it from the runs in flight."""
        state = self.runs_in_flight.pop(_session(request), None)
        if state is not None:
            state.stop.set()

    def reward_choices(self, env: str) -> list:
        """The Reward choice's (label, name) pairs for ``env``: the paper's reward first, the extension where
        made."""
        return [(reward_label(name), name) for name in self.service.rewards_of(env)]

    def reward_outputs(self, env: str, reward: str) -> tuple:
        """(the Reward choice set to ``reward`` with ``env``'s rewards as its choices, the note on that reward)."""
        rewards = self.service.rewards_of(env)
        choice = gr.Radio(choices=self.reward_choices(env), value=reward if reward in rewards else DEFAULT_REWARD)
        if reward not in REWARD_TEXT:  # an example made before its reward was recorded
            return choice, (f"**{reward_label(reward)} reward**: this example does not record which reward "
                            "steered it.")
        if reward not in rewards:  # an example made with checkpoints other than these
            return choice, f"**{reward_label(reward)}**: this example's reward is not among these checkpoints."
        return choice, reward_note(env, reward, self.service.reward_steering(env, reward), rewards)

    def example_outputs(self, env: str) -> tuple:
        """(scale, t_stopgrad, seed, steps, base video, steered video, returns plot, reward plot, summary, headline,
        status, reward, reward note) of the env's shipped example run; the episode length is the interactive
        default, the Reward choice the example's reward."""
        example = self.service.example_run(env)
        settings = example["settings"]
        summary = summary_json(env, settings, example["summary"], example=True, command=example.get("command"))
        status = (f"Showing the precomputed {env} example ({reward_label(settings['reward'])} reward). *Run base + "
                  f"steered* plans a fresh episode here: its curves update every {UPDATE_EVERY_S:g} s, its videos "
                  "come at the end.")
        return (settings["scale"], settings["t_stopgrad"], settings["seed"], DEFAULT_STEPS,
                example["videos"]["base"], example["videos"]["steered"],
                *figures(env, example["curves"]), summary, headline(env, example["summary"], settings, "example"),
                status, *self.reward_outputs(env, settings["reward"]))

    @user_errors
    def example(self, env):
        """locomotion_example: the env's precomputed example run (controls set to its settings, the episode length
        to the interactive default)."""
        return self.example_outputs(check_env(env))

    @user_errors
    def select_env(self, env):
        """locomotion_select_env: load the env's models (once) and show its example run (controls set to the
        example's settings and reward, the Reward choice to the env's rewards); without an example: the paper's
        reward, its default steering and empty outputs.

        The sliders and the seed get plain values, never component updates: an update would replace the session's
        copy of the input component and with it ``checked_by_handler``'s pass-through (Gradio's range check would
        come back). The Reward choice is updated (its choices are the env's rewards), so the events that read it
        are registered with ``preprocess=False`` (see ``build_tab``)."""
        env = self.service.check_trained(env)
        examples = self.service.load_examples()
        if env in examples:
            reward = examples[env]["settings"].get("reward")
            self.service.get_models(env, reward if reward in self.service.rewards_of(env) else DEFAULT_REWARD)
            return self.example_outputs(env)
        settings = self.service.fresh_settings(env, DEFAULT_REWARD)
        return (settings["scale"], settings["t_stopgrad"], DEFAULT_SEED, DEFAULT_STEPS, None, None,
                *figures(env, {}),
                summary_json(env, settings, {}, example=False, note="no precomputed example: press Run"),
                headline(env, {}, settings, "finished"), f"No precomputed {env} example: press *Run base + steered*.",
                *self.reward_outputs(env, DEFAULT_REWARD))

    @user_errors
    def select_reward(self, env, reward):
        """locomotion_select_reward: the steering controls reset to the setting ``reward`` of ``env`` is meant for
        (its guidance comes with the reward), and the note says what the reward is; the results shown stay
        (their headline names the reward that made them)."""
        env = self.service.check_trained(env)
        reward = self.service.check_reward(env, reward)
        steering = self.service.reward_steering(env, reward)
        return (float(steering["scale"]), int(steering["t_stopgrad"]),
                reward_note(env, reward, steering, self.service.rewards_of(env)))


# ------------------------------------------------------------------ layout
INTRO = (
    "Each environment has a **base** diffusion planner trained on low-return data (the replay buffer of an RL run "
    "up to about a third of the expert's return, as D4RL *medium-replay*), an **expert** planner trained on expert "
    "rollouts, and the **relative reward** learned from the pair by gradient matching: the paper's offline reward, "
    "the default; where made, *Reward* also offers this project's extension, that reward fine-tuned on-policy in "
    "the simulator. Here the base planner runs "
    "in the simulator twice from the same seed: unsteered, and **steered** by the learned reward's gradient during "
    "sampling. A precomputed example is shown; *Run* plans a fresh episode (the planner replans at every step, so "
    f"an episode is capped at {MAX_STEPS} steps; its curves show while it runs).")


def build_tab(service: LocomotionDemo, demo: Optional[gr.Blocks] = None) -> Dict[str, gr.components.Component]:
    """Build the Locomotion tab's components and events, wired to ``service``, inside the current Blocks / Tab
    context.

    ``demo``: the enclosing Blocks; when given, the default env's example run is shown on page load.
    Returns the components by name (for tests)."""
    handlers = LocomotionHandlers(service)
    trained = service.trained_envs()
    missing = [e for e in ENVS if e not in trained]
    env0 = service.default_env(trained)
    start = service.reward_steering(env0, DEFAULT_REWARD) if env0 in trained else {"scale": 0.5, "t_stopgrad": 5}
    rewards0 = service.rewards_of(env0) if env0 in trained else [DEFAULT_REWARD]
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            env = checked_by_handler(gr.Dropdown(
                [(f"{e} ({GYM_IDS[e]})", e) for e in trained] or [("hopper (not trained yet)", "hopper")],
                value=env0, label="Environment", elem_id="loco-env"))
            if missing:
                gr.Markdown("**Not trained yet:** " + "; ".join(
                    f"{e}, train with `{TRAIN_COMMAND.format(env=e)}`" for e in missing), elem_id="loco-missing")
            reward = checked_by_handler(gr.Radio(
                [(reward_label(r), r) for r in rewards0], value=DEFAULT_REWARD, label="Reward",
                info="which learned reward steers; picking one sets its recommended steering",
                elem_id="loco-reward-choice"))
            reward_md = gr.Markdown(reward_note(env0, DEFAULT_REWARD, start, rewards0) if env0 in trained else "",
                                    elem_id="loco-reward-note")
            scale = checked_by_handler(gr.Slider(
                0, MAX_SCALE, value=start["scale"], step=0.05, label="Steering scale (0 = unsteered)",
                info="set to the reward's recommended scale when an environment or a reward is picked",
                elem_id="loco-scale"))
            t_stopgrad = checked_by_handler(gr.Slider(
                0, max([service.configured_timesteps(e) for e in trained] or [20]), value=start["t_stopgrad"], step=1,
                label="t_stopgrad",
                info="no reward guidance at diffusion steps t < t_stopgrad (nor, where the reward's note gives a "
                     "window, at steps t >= its end)",
                elem_id="loco-t-stopgrad"))
            steps = checked_by_handler(gr.Slider(
                MIN_STEPS, MAX_STEPS, value=DEFAULT_STEPS, step=10,
                label=f"Episode length ({MIN_STEPS}-{MAX_STEPS} environment steps)", elem_id="loco-steps",
                info=f"{DEFAULT_STEPS} steps take about half a minute on a small CPU"))
            seed = checked_by_handler(gr.Number(DEFAULT_SEED, label="Seed (reset state of both episodes)",
                                                precision=0, elem_id="loco-seed"))
            with gr.Row():
                run_button = gr.Button("Run base + steered", variant="primary", elem_id="loco-run", min_width=150)
                cancel = gr.Button("Cancel", variant="stop", elem_id="loco-cancel", min_width=100)
            status = gr.Markdown("", elem_id="loco-status", min_height=48)
            example_button = gr.Button("Show the precomputed example", size="sm", elem_id="loco-example")
        with gr.Column(scale=3, min_width=300):
            headline_md = gr.Markdown("", elem_id="loco-headline")
            with gr.Row():
                base_video = gr.Video(label="Base planner", autoplay=True, loop=True, interactive=False,
                                      elem_id="loco-video-base", min_width=300)
                steered_video = gr.Video(label="Steered base planner (learned reward)", autoplay=True, loop=True,
                                         interactive=False, elem_id="loco-video-steered", min_width=300)
            with gr.Row():
                returns_plot = gr.Plot(label="Cumulative return", elem_id="loco-returns", min_width=300)
                reward_plot = gr.Plot(label="Learned reward along the trajectory", elem_id="loco-reward",
                                      min_width=300)
            with gr.Accordion("Raw numbers (JSON)", open=False, elem_id="loco-summary-accordion"):
                summary = gr.JSON(label="Summary", elem_id="loco-summary", max_height=300)

    results = [base_video, steered_video, returns_plot, reward_plot, summary, headline_md, status]
    controls = [scale, t_stopgrad, seed, steps]
    # appended after the earlier outputs (an API client's indices stay); the Reward choice's choices are the env's
    # rewards, a component update: Gradio then rebuilds it for the session without checked_by_handler's
    # pass-through, so the events that read it do not preprocess (as the Maze tab; every input is checked by its
    # handler)
    reward_out = [reward, reward_md]
    on_status = {"show_progress_on": [status]}
    run_event = run_button.click(handlers.run, [env, scale, t_stopgrad, seed, steps, reward], results,
                                 api_name="locomotion_run", concurrency_id="locomotion_run", preprocess=False,
                                 **on_status)
    # private: an API client cancels its own job; the browser's Cancel says so and keeps the results so far
    cancel.click(handlers.cancel_run, None, [headline_md, status], cancels=[run_event], api_name="locomotion_cancel",
                 concurrency_id="locomotion_cancel", concurrency_limit=None, **on_status)
    if demo is not None:
        demo.unload(handlers.forget_session)
    example_triggers = [example_button.click]
    if demo is not None and env0 in service.load_examples():  # nothing to show (and no error toast) without an example
        example_triggers.append(demo.load)
    # cheap events have concurrency ids of their own: they never wait behind a run
    gr.on(example_triggers, handlers.example, [env], [*controls, *results, *reward_out], api_name="locomotion_example",
          concurrency_id="locomotion_example", concurrency_limit=None, **on_status)
    env.input(handlers.select_env, [env], [*controls, *results, *reward_out], api_name="locomotion_select_env",
              concurrency_id="locomotion_select_env", **on_status)
    reward.input(handlers.select_reward, [env, reward], [scale, t_stopgrad, reward_md],
                 api_name="locomotion_select_reward", concurrency_id="locomotion_select_reward", concurrency_limit=None,
                 preprocess=False, **on_status)
    return {"env": env, "reward": reward, "reward_note": reward_md, "scale": scale, "t_stopgrad": t_stopgrad,
            "seed": seed, "steps": steps, "run": run_button,
            "cancel": cancel, "example": example_button, "base_video": base_video, "steered_video": steered_video,
            "returns_plot": returns_plot, "reward_plot": reward_plot, "summary": summary, "headline": headline_md,
            "status": status}
