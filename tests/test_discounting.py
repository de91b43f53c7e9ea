"""Known-answer tests for discounting (closed forms, to 1e-9)."""
import numpy as np
import pytest

from mkba.discounting import annuity_factor, discount_factors, excel_npv, npv


@pytest.mark.parametrize("rate", [0.0225, 0.03, 0.055])
@pytest.mark.parametrize("years", [1, 5, 10])
def test_level_annuity_matches_closed_form(rate, years):
    # 1.000 a year paid as 12 equal monthly amounts; Excel convention discounts year k by (1+r)^-k
    flows = np.full(12 * years, 1000.0 / 12)
    expected = 1000.0 * (1 - (1 + rate) ** -years) / rate
    assert npv(flows, rate, "excel") == pytest.approx(expected, abs=1e-9)
    assert annuity_factor(rate, years) * 1000.0 == pytest.approx(expected, abs=1e-9)


def test_start_convention_is_excel_times_one_plus_r():
    flows = np.arange(36, dtype=float)
    r = 0.03
    assert npv(flows, r, "start") == pytest.approx(npv(flows, r, "excel") * (1 + r), abs=1e-9)
    assert annuity_factor(r, 4, "start") == pytest.approx((1 - 1.03 ** -4) / 0.03 * 1.03, abs=1e-12)


def test_excel_npv_of_yearly_sums_equals_monthly_excel_convention():
    rng = np.random.default_rng(1)
    monthly = rng.normal(size=60) * 1000
    yearly = monthly.reshape(5, 12).sum(axis=1)
    assert npv(monthly, 0.0225) == pytest.approx(excel_npv(0.0225, yearly), abs=1e-9)
    # Excel: NPV(10%, 100, 100) = 173,5537...
    assert excel_npv(0.10, [100, 100]) == pytest.approx(100 / 1.1 + 100 / 1.21, abs=1e-12)


def test_monthly_convention_closed_form():
    r = 0.055
    f = discount_factors(24, r, "monthly")
    assert f[11] == pytest.approx(1 / 1.055, abs=1e-12)
    assert f[23] == pytest.approx(1 / 1.055 ** 2, abs=1e-12)


def test_zero_rate_is_plain_sum():
    flows = np.linspace(-5, 7, 48)
    for conv in ("excel", "start", "monthly"):
        assert npv(flows, 0.0, conv) == pytest.approx(flows.sum(), abs=1e-9)
    assert annuity_factor(0.0, 7) == 7.0


def test_vector_of_rates():
    f = discount_factors(24, np.array([0.0, 0.03]), "excel")
    assert f.shape == (24, 2)
    assert np.allclose(f[:, 0], 1.0)
    assert f[12, 1] == pytest.approx(1.03 ** -2)


def test_unknown_convention_is_clear_error():
    from mkba.errors import InputError

    with pytest.raises(InputError, match="did you mean 'excel'"):
        discount_factors(12, 0.03, "exel")
