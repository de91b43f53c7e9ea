"""The cycle acts on every channel, each test isolating its channel (issue 9, point 8 and its residual).

Each case below has exactly one flow that can carry the cycle: every ``*.cycle_sensitivity`` of the
model is 0 except the channel's own, and the baseline exit to work (which always follows the
cycle multiplier fully) has rate 0. Then for each channel:

* with its sensitivity 1 a downturn (cycle.multiplier 0,7) saves fewer benefit months than 1,0;
* with its sensitivity 0 the downturn changes nothing at all, so no other channel carries the cycle
  in that case: the first check is about this channel alone.

Breaking a channel's cycle on purpose in the kernel (its factor forced to 1) fails that channel's
first check (recorded in the notes of the published2 helper).
"""
import numpy as np
import pytest

from mkba.model import evaluate_batch
from mkba.schema import SCHEMA
from test_known_answers import synthetic

SENSITIVITIES = sorted(k for k in SCHEMA if k.endswith("cycle_sensitivity"))
LEAF = 'date: 2019, reference: "test"'

#: per channel: its sensitivity parameter and the lines that give it (and only it) a flow
CHANNELS = {
    "the added effect": ("effect.cycle_sensitivity", ""),
    "the one-off stock effect": ("effect.stock_cycle_sensitivity", f"""
        effect.work_exit_added: {{value: 0.0, unit: fraction/year (pp/100), {LEAF}}}
        effect.stock_share: {{value: 0.2, unit: fraction, {LEAF}}}
        effect.stock_months: {{value: 6, unit: months, {LEAF}}}
    """),
    "returns to benefit": ("baseline.return_cycle_sensitivity", f"""
        baseline.return_rate: {{value: 0.3, unit: 1/year (probability), {LEAF}}}
    """),
    "part-time to full work": ("baseline.partial_to_work_cycle_sensitivity", f"""
        baseline.part_time_share: {{value: 1.0, unit: fraction, {LEAF}}}
        baseline.partial_to_work_rate: {{value: 0.5, unit: 1/year (probability), {LEAF}}}
        baseline.partial_return_rate: {{value: 0.0, unit: 1/year (probability), {LEAF}}}
    """),
    "hiring into a contract": ("jobs.placement_cycle_sensitivity", f"""
        effect.work_exit_added: {{value: 0.0, unit: fraction/year (pp/100), {LEAF}}}
        jobs.share: {{value: 0.8, unit: fraction, {LEAF}}}
        jobs.start_month: {{value: 1, unit: months, {LEAF}}}
        jobs.end_month: {{value: 12, unit: months, {LEAF}}}
    """),
    "moves from a contract to regular work": ("jobs.to_work_cycle_sensitivity", f"""
        effect.work_exit_added: {{value: 0.0, unit: fraction/year (pp/100), {LEAF}}}
        jobs.share: {{value: 1.0, unit: fraction, {LEAF}}}
        jobs.start_month: {{value: 1, unit: months, {LEAF}}}
        jobs.end_month: {{value: 12, unit: months, {LEAF}}}
        jobs.to_work_rate: {{value: 0.3, unit: 1/year (probability), {LEAF}}}
        jobs.to_work_share: {{value: 0.5, unit: fraction, {LEAF}}}
    """),
    "drop-outs from a contract": ("jobs.dropout_cycle_sensitivity", f"""
        effect.work_exit_added: {{value: 0.0, unit: fraction/year (pp/100), {LEAF}}}
        jobs.share: {{value: 1.0, unit: fraction, {LEAF}}}
        jobs.start_month: {{value: 1, unit: months, {LEAF}}}
        jobs.end_month: {{value: 12, unit: months, {LEAF}}}
        jobs.dropout_rate: {{value: 0.3, unit: 1/year (probability), {LEAF}}}
    """),
}


def test_every_sensitivity_has_a_channel_test():
    assert sorted(s for s, _ in CHANNELS.values()) == SENSITIVITIES


def _case(tmp_path, channel: str, own: float):
    name, extra = CHANNELS[channel]
    lines = [f"{s}: {{value: {own if s == name else 0.0}, unit: fraction, {LEAF}}}" for s in SENSITIVITIES]
    tag = "c" + str(sorted(CHANNELS).index(channel)) + ("on" if own else "off")
    return synthetic(tmp_path, extra + "\n" + "\n".join(lines), name=f"synthetic_{tag}")


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_a_downturn_lowers_the_channel_and_only_it_carries_the_cycle(tmp_path, channel):
    on = evaluate_batch(_case(tmp_path, channel, 1.0), {"cycle.multiplier": np.array([1.0, 0.7])})
    off = evaluate_batch(_case(tmp_path, channel, 0.0), {"cycle.multiplier": np.array([1.0, 0.7])})
    # the channel's flow is there and moves money
    assert on["benefit_months_saved"][0] > 1.0, channel
    # with its sensitivity 1 the downturn saves fewer benefit months ...
    assert on["benefit_months_saved"][1] < on["benefit_months_saved"][0] - 1e-6, channel
    # ... and with it 0 nothing else in the case moves with the cycle
    for k in ("benefit_months_saved", "extra_ended_benefits", "npv_eur"):
        assert off[k][1] == pytest.approx(off[k][0], rel=1e-12, abs=1e-9), (channel, k)
