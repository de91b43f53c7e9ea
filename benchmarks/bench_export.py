"""Excel export speed: the live workbook (formula sheets + values-only sheets) against the values-only workbook.

Measured in one interleaved run for one case (default ``fip_sittard_geleen``, 60 months), in process
after a warm-up export (the compiled kernel loaded): ``mkba.export.export_xlsx(case, path)`` (what
``mkba export CASE --xlsx`` writes) against the peer ``export_xlsx(case, path, live=False)`` (the
values-only workbook the export wrote before the live model: pandas + openpyxl). Also, once, the time
LibreOffice headless needs to recalculate the live workbook (``soffice --convert-to xlsx``), when installed.

Target (issue 12): the live export of one case under 2 s.
Usage: python benchmarks/bench_export.py [--case NAME] [--repeats 5]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

TARGET_S = 2.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="fip_sittard_geleen")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    from mkba.cases import load_case
    from mkba.export import export_xlsx

    case = load_case(args.case)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        export_xlsx(case, tmp / "warm.xlsx")
        live, peer = [], []
        for i in range(args.repeats):          # interleaved
            t = time.perf_counter(); export_xlsx(case, tmp / f"live{i}.xlsx"); live.append(time.perf_counter() - t)
            t = time.perf_counter(); export_xlsx(case, tmp / f"peer{i}.xlsx", live=False); peer.append(time.perf_counter() - t)
        bl, bp = min(live), min(peer)
        print(f"case {args.case} ({case.months} months), best of {args.repeats}")
        print(f"  live workbook (formulas + values): {bl:.3f} s   (target {TARGET_S:.1f} s: "
              f"{'met' if bl <= TARGET_S else 'MISSED'})")
        print(f"  peer: values-only workbook       : {bp:.3f} s   ratio live / peer = {bl / bp:.2f}")
        soffice = shutil.which("soffice")
        if soffice:
            t = time.perf_counter()
            subprocess.run([soffice, f"-env:UserInstallation={(tmp / 'lo').as_uri()}", "--headless", "--convert-to",
                            "xlsx", "--outdir", str(tmp / "out"), str(tmp / "live0.xlsx")], capture_output=True,
                           check=True)
            print(f"  LibreOffice recalculation (incl. start-up): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
