"""Seeded distributions: known answers (scipy.stats), reproducibility, and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mkba.distributions import (Dist, apply_bounds, check_against_base, from_yaml, sample, sample_range,
                                uniforms)
from mkba.errors import InputError

U = np.array([1e-6, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1 - 1e-6])

CASES = [
    (Dist("uniform", low=2.0, high=5.0), stats.uniform(loc=2, scale=3)),
    (Dist("triangular", low=1.0, mode=2.0, high=6.0), stats.triang(c=0.2, loc=1, scale=5)),
    (Dist("triangular", low=1.0, mode=1.0, high=6.0), stats.triang(c=0.0, loc=1, scale=5)),
    (Dist("normal", mean=0.06, sd=0.01), stats.norm(0.06, 0.01)),
    (Dist("normal", mean=0.05, sd=0.02, low=0.0, high=0.08), stats.truncnorm(-2.5, 1.5, loc=0.05, scale=0.02)),
    (Dist("lognormal", mu=7.8, sigma=0.3), stats.lognorm(s=0.3, scale=math.exp(7.8))),
    (Dist("beta", alpha=2, beta=5), stats.beta(2, 5)),
    (Dist("beta", alpha=2, beta=5, low=10, high=30), stats.beta(2, 5, loc=10, scale=20)),
    (Dist("beta", alpha=19, beta=326), stats.beta(19, 326)),      # a rate around 0.055
    (Dist("beta", alpha=0.5, beta=0.5), stats.beta(0.5, 0.5)),
    (Dist("beta", alpha=0.2, beta=3), stats.beta(0.2, 3)),
]


def test_beta_ppf_on_many_uniforms_and_extremes():
    u = np.concatenate([np.random.default_rng(0).random(20_000), [0.0, 2.0 ** -53, 0.5, 1 - 2.0 ** -53]])
    for a, b in [(2, 5), (19, 326), (3, 0.3), (50, 50)]:
        x = Dist("beta", alpha=a, beta=b).ppf(u)
        np.testing.assert_allclose(x, stats.beta(a, b).ppf(u), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("dist,ref", CASES, ids=lambda c: getattr(c, "kind", ""))
def test_ppf_and_cdf_match_scipy(dist, ref):
    np.testing.assert_allclose(dist.ppf(U), ref.ppf(U), rtol=1e-9, atol=1e-12)
    x = ref.ppf(U[1:-1])
    np.testing.assert_allclose(dist.cdf(x), U[1:-1], rtol=1e-9, atol=1e-12)
    assert dist.mean_value() == pytest.approx(ref.mean(), rel=1e-5)


def test_lognormal_mean_sd_parameterisation():
    d = Dist("lognormal", mean=2500.0, sd=800.0)
    sigma2 = math.log1p((800 / 2500) ** 2)
    ref = stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(2500) - sigma2 / 2))
    assert ref.mean() == pytest.approx(2500) and ref.std() == pytest.approx(800)
    np.testing.assert_allclose(d.ppf(U), ref.ppf(U), rtol=1e-9)


def test_beta_mean_sd_parameterisation():
    d = Dist("beta", mean=0.3, sd=0.1, low=0.0, high=1.0)
    a, b = d._a, d._b
    assert a / (a + b) == pytest.approx(0.3)
    assert math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))) == pytest.approx(0.1)


@pytest.mark.parametrize("dist,ref", CASES[:1] + CASES[3:4] + CASES[5:7], ids=lambda c: getattr(c, "kind", ""))
def test_sample_moments(dist, ref):
    n = 200_000
    x = sample({"p": dist}, n, seed=11)["p"]
    se = ref.std() / math.sqrt(n)
    assert abs(x.mean() - ref.mean()) < 5 * se
    assert stats.kstest(x, ref.cdf).pvalue > 1e-4


def test_same_seed_identical_different_seed_differs():
    d = {"a": Dist("uniform", low=0, high=1), "b": Dist("normal", mean=0, sd=1)}
    s1, s2, s3 = sample(d, 1000, seed=7), sample(d, 1000, seed=7), sample(d, 1000, seed=8)
    for k in d:
        np.testing.assert_array_equal(s1[k], s2[k])
        assert not np.array_equal(s1[k], s3[k])
    assert not np.array_equal(s1["a"], stats.norm.cdf(s1["b"]))   # independent streams


def test_chunks_equal_one_big_draw():
    d = {"a": Dist("triangular", low=0, mode=1, high=3), "b": Dist("beta", alpha=2, beta=3)}
    full = sample(d, 10_000, seed=3)
    for a, b in [(0, 1), (1, 999), (4096, 10_000), (5000, 5000)]:
        part = sample_range(d, a, b, seed=3)
        for k in d:
            np.testing.assert_array_equal(part[k], full[k][a:b])


def test_other_parameters_do_not_change_a_stream():
    a = Dist("uniform", low=0, high=1)
    alone = sample({"a": a}, 500, seed=5)["a"]
    together = sample({"z": Dist("normal", mean=1, sd=2), "a": a}, 500, seed=5)["a"]
    np.testing.assert_array_equal(alone, together)


def test_seed_sequence_and_seed_refusal():
    np.testing.assert_array_equal(uniforms("x", np.random.SeedSequence(4), 0, 10), uniforms("x", 4, 0, 10))
    with pytest.raises(InputError, match="seed"):
        sample({"a": Dist("uniform", low=0, high=1)}, 10, seed=None)


def test_from_yaml_string_and_mapping():
    text = """
distributions:
  programme.cost_per_participant: {kind: triangular, low: 2000, mode: 2500, high: 4000, reason: tender}
  effect.work_exit_added: {kind: normal, mean: 0.053, sd: 0.015, low: 0}
"""
    d = from_yaml(text)
    assert d["programme.cost_per_participant"] == Dist("triangular", low=2000, mode=2500, high=4000)
    assert d["effect.work_exit_added"].support() == (0.0, math.inf)
    assert from_yaml({"x": {"kind": "uniform", "low": 1, "high": 2}})["x"].to_dict() == \
        {"kind": "uniform", "low": 1.0, "high": 2.0}


def test_unknown_kind_suggests_closest():
    with pytest.raises(InputError, match="triangular") as e:
        from_yaml({"x": {"kind": "triangle", "low": 1, "mode": 2, "high": 3}}, file="case.yaml")
    assert e.value.file == "case.yaml" and e.value.field == "x.kind"


def test_unknown_key_suggests_closest():
    with pytest.raises(InputError, match="'mode'"):
        from_yaml({"x": {"kind": "triangular", "low": 1, "mod": 2, "high": 3}})
    with pytest.raises(InputError, match="not a parameter of a uniform"):
        Dist("uniform", low=1, high=2, mode=1.5)


def test_missing_parameters_and_bad_values():
    with pytest.raises(InputError, match="needs mean, sd"):
        Dist("normal", mean=1)
    with pytest.raises(InputError, match="sd must be positive"):
        Dist("normal", mean=1, sd=0)
    with pytest.raises(InputError, match="finite"):
        Dist("uniform", low=float("nan"), high=1)
    with pytest.raises(InputError, match="mode lies outside"):
        Dist("triangular", low=1, mode=5, high=3)
    with pytest.raises(InputError, match="no 'kind'"):
        from_yaml({"x": {"knd": "uniform", "low": 1, "high": 2}})


def test_inverted_bounds_are_swapped_with_a_warning():
    with pytest.warns(UserWarning, match=r"x: low \(5\) was above high \(2\); swapped them: low=2, high=5"):
        d = Dist.from_mapping({"kind": "uniform", "low": 5, "high": 2}, name="x")
    assert (d.low, d.high) == (2.0, 5.0)


def test_distribution_excluding_base_value_is_an_error():
    d = {"benefit.cost_per_year": Dist("uniform", low=15000, high=18000, name="benefit.cost_per_year")}
    with pytest.raises(InputError, match="excludes the base value 14000") as e:
        check_against_base(d, {"benefit.cost_per_year": 14000.0})
    assert e.value.field == "benefit.cost_per_year"
    with pytest.raises(InputError, match="did you mean 'benefit.cost_per_year'"):
        check_against_base({"benefit.cost_per_yr": Dist("uniform", low=1, high=2)}, {"benefit.cost_per_year": 1.5})


def test_apply_bounds_clips_and_truncates_with_warnings():
    d = {"p": Dist("uniform", low=-0.1, high=0.5), "q": Dist("normal", mean=0.9, sd=0.1),
         "b": Dist("normal", mean=14000, sd=1500)}
    with pytest.warns(UserWarning) as rec:
        out = apply_bounds(d, {"p": (0, 1), "q": (0, 1), "b": (0, 1e6)})
    msgs = [str(w.message) for w in rec]
    assert any("p: uniform" in m and "clipped it to [0, 0.5]" in m for m in msgs)
    assert any("q: normal" in m and "truncated it to [0, 1]" in m for m in msgs)
    assert not any(m.startswith("b:") for m in msgs)       # negligible tail: no warning
    assert out["p"].support() == (0.0, 0.5)
    x = sample(out, 50_000, seed=1)
    assert x["q"].max() <= 1.0 and x["p"].min() >= 0.0
    with pytest.raises(InputError, match=r"reaches outside the valid range \[0, 1\]"):
        apply_bounds({"t": Dist("triangular", low=-0.1, mode=0.2, high=0.5)}, {"t": (0, 1)})
