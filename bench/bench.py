"""Benchmark cptlint against the tools people would otherwise run, as ratios in one run.

    python bench/bench.py                 # 2,000 and 20,000 files, one file, 1,000,000 NDJSON lines,
                                          # and the lake: 10,000,000 lines on a local Dask cluster
    python bench/bench.py --quick         # 500 and 5,000 files, 100,000 lines, a 1,000,000-line lake
    python bench/bench.py --lake-only     # the lake alone

Peers (installed on demand with pip into the running environment when missing): check-jsonschema
(schema only, against cptlint's own schema), yamllint, a bare parse with PyYAML's C loader, and for
837P claims a bare segment read with pyx12's X12Reader.
Every figure is the median wall time of --repeat runs of a fresh process; the ratios are what
the targets in the README's Performance section are stated in.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "encounter.schema.json"
PYTHON = sys.executable
BIN = Path(sys.executable).parent

CLEAN = """\
id: {id}
date: 2026-{month:02d}-{day:02d}
payer: {payer}
patient: P-{patient}
provider: {{npi: "1234567893", discipline: PT}}
diagnoses: [M54.50, M25.511]
services:
  - code: "97140"
    units: {manual_units}
    minutes: 30
    modifiers: [GP]
    regions: [cervical]
    techniques: [joint_mobilization, myofascial_release]
    diagnosis_pointers: [1]
    start: "09:00"
    end: "09:30"
    response: Cervical rotation improved 10 degrees
    goal: Turn head to check blind spot while driving
  - code: "97110"
    units: 1
    minutes: 15
    modifiers: [GP]
    diagnosis_pointers: [2]
    start: "09:30"
    end: "09:45"
"""


def generate(directory: Path, count: int, seed: int = 7) -> list[Path]:
    """count encounter files like examples/, 100 to a folder; one in five bills too many units."""
    rng = random.Random(seed)
    files = []
    for i in range(count):
        folder = directory / f"batch{i // 100:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"enc-{i:06d}.yaml"
        path.write_text(
            CLEAN.format(
                id=f"ENC-{i}",
                month=rng.randint(1, 12),
                day=rng.randint(1, 28),
                payer=rng.choice(["medicare", "commercial"]),
                patient=i,
                manual_units=3 if i % 5 == 0 else 2,
            )
        )
        files.append(path)
    return files


def generate_lines(path: Path, count: int) -> None:
    record = {
        "id": "",
        "date": "2026-03-14",
        "patient": "",
        "provider": {"npi": "1234567893", "discipline": "PT"},
        "diagnoses": ["M54.50"],
        "services": [
            {"code": "97110", "units": 2, "minutes": 30, "modifiers": ["GP"], "diagnosis_pointers": [1]},
            {"code": "97112", "units": 1, "minutes": 15, "modifiers": ["GP"], "diagnosis_pointers": [1]},
        ],
    }
    with path.open("w") as out:
        for i in range(count):
            record["id"], record["patient"] = f"ENC-{i}", f"P-{i}"
            record["services"][0]["units"] = 3 if i % 5 == 0 else 2
            out.write(json.dumps(record) + "\n")


def generate_claims(path: Path, count: int) -> None:
    """One 837P interchange of count claims, one a patient, each with three service lines; every
    fifth bills 97530 beside 97140 without a bypass modifier (MOD001)."""
    isa = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260406*1200*^*00501*000000001*0*P*:~"
    head = [
        "ST*837*0001*005010X222A1", "BHT*0019*00*1*20260406*1200*CH", "HL*1**20*1", "PRV*BI*PXC*225100000X",
        "NM1*85*2*LAKESIDE THERAPY*****XX*1567890128",
    ]
    segments = len(head)
    with path.open("w") as out:
        out.write(isa + "\nGS*HC*SUBMITTER*RECEIVER*20260406*1200*1*X*005010X222A1~\n")
        out.write("".join(s + "~\n" for s in head))
        for i in range(count):
            third = "97530" if i % 5 == 0 else "97110"
            claim = [
                f"HL*{i + 2}*1*22*0", "SBR*P*18*******MB", f"NM1*IL*1*DOE*JANE****MI*W{i:08d}",
                f"CLM*C{i}*300***11:B:1*Y*A*Y*Y", "HI*ABK:M5450*ABF:M25511",
                "NM1*82*1*RIVERA*ANA****XX*1234567893", "PRV*PE*PXC*225100000X",
            ]
            for n, code in enumerate(("97140", "97110" if third == "97530" else "97112", third), 1):
                claim += [f"LX*{n}", f"SV1*HC:{code}:GP*100*UN*1***1:2", "DTP*472*D8*20260406"]
            segments += len(claim)
            out.write("".join(s + "~\n" for s in claim))
        out.write(f"SE*{segments + 1}*0001~\nGE*1*1~\nIEA*1*000000001~\n")


def timed(commands: list[list[str]], repeat: int, cwd: Path | None = None, before=None) -> list[tuple[float, float]]:
    """(median seconds, peak RSS in MB of the largest run) of each command over repeat fresh
    processes. The commands take turns, so a machine that speeds up or slows down during the
    run (a shared one does) weighs on each of them alike, and their ratios hold. before(round),
    if given, runs before each round."""
    # The probe times its child itself, so its own start-up is in neither tool's figure.
    probe = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    times: list[list[float]] = [[] for _ in commands]
    peaks: list[list[float]] = [[] for _ in commands]
    for round_ in range(repeat):
        if before is not None:
            before(round_)
        for command, seconds_of, peaks_of in zip(commands, times, peaks):
            out = subprocess.run([PYTHON, "-c", probe, *command], capture_output=True, text=True, cwd=cwd, check=True)
            seconds, peak = out.stdout.split()
            seconds_of.append(float(seconds))
            peaks_of.append(int(peak) / 1024)
    return [(statistics.median(t), max(p)) for t, p in zip(times, peaks)]


def tool(name: str, *packages: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", *packages], check=True)
        found = shutil.which(name, path=str(BIN))
    return found


PARSE_ONLY = """
import sys, yaml
for name in open(sys.argv[1]).read().split("\\n"):
    if name:
        with open(name, "rb") as f:
            yaml.load(f, Loader=yaml.CSafeLoader)
"""

X12_SEGMENTS = """
import sys
from pyx12.x12file import X12Reader
with open(sys.argv[1]) as f:
    for segment in X12Reader(f):
        pass
"""

# The lake: cptlint check --engine dask against a running local cluster of argv[1] workers (one
# thread each, as `--workers` makes them), started before the clock, as a real cluster is up
# before a run. Prints the run's seconds, the client's peak MB and the largest worker's, and the
# client's CPU seconds: the part of the run no number of workers shares.
LAKE = """
import resource, subprocess, sys, time
from distributed import Client, LocalCluster
workers, cptlint, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if __name__ == "__main__":
    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0", silence_logs=50) as cluster, Client(cluster) as client:
        started = time.perf_counter()
        command = [cptlint, "check", "--engine", "dask", "--scheduler", cluster.scheduler_address, "--format", "json", "--no-cache", path]
        subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
        seconds = time.perf_counter() - started
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_peak = max(client.run(lambda: __import__("resource").getrusage(0).ru_maxrss).values())
        print(seconds, used.ru_maxrss / 1024, worker_peak / 1024, used.ru_utime + used.ru_stime)
"""

# The lake API on argv[1] NDJSON lines read as a Dask bag, on a local cluster of 2 workers:
# the seconds to read and parse them (a count), to shuffle them on their day's key alone, and to
# lint them into a Parquet dataset of findings (days by the same shuffle).
LAKE_API = """
import json, sys, tempfile, time
import dask.bag as db
from distributed import Client, LocalCluster
from cptlint.config import load_settings
from cptlint.lake import shuffle_key
from cptlint.lake.dask import lint_bag
path = sys.argv[1]
def keyed(value):
    return {"day": shuffle_key(value, "medicare", path, 0), "text": json.dumps(value)}
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=50) as cluster, Client(cluster):
        bag = db.read_text(path, blocksize="32MiB").map(json.loads)
        started = time.perf_counter(); bag.count().compute(); read = time.perf_counter() - started
        started = time.perf_counter()
        len(bag.map(keyed).to_dataframe(meta={"day": "int64", "text": "string"}).shuffle(on="day"))
        shuffled = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter(); lint_bag(bag, load_settings(), name=path).to_parquet(out); linted = time.perf_counter() - started
        print(read, shuffled, linted)
"""

JSON_LINES = """
import json, sys
with open(sys.argv[1], "rb") as f:
    for line in f:
        if line.strip():
            json.loads(line)
"""


def lake(root: Path, count: int, cptlint: list[str]) -> list[tuple[str, float, str]]:
    """count NDJSON lines (the long file's kind, one in five with a finding): one machine
    (`--jobs`, its cores) against a local Dask cluster of 1 and of 2 workers, once each (a run
    takes minutes). The client takes the pieces' findings as they come, so a run on N workers
    takes about the longer of the client's CPU time and the lines over N times a worker's rate
    (measured with one worker, which has a core to itself beside the client); on 2 cores the
    2-worker run shares them with the client and the scheduler."""
    if subprocess.run([PYTHON, "-c", "import distributed, pyarrow"], capture_output=True).returncode != 0:
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "-e", f"{REPO}[dask]"], check=True)
    path, script = root / "lake.ndjson", root / "lake.py"
    generate_lines(path, count)
    script.write_text(LAKE)
    ((local, local_peak),) = timed([[*cptlint, str(path)]], 1)
    print(f"{f'cptlint, {count:,} lines, one machine':<46} {local:8.3f} s {local_peak:8.1f} MB", file=sys.stderr)
    runs = {}
    for workers in (1, 2):
        out = subprocess.run([PYTHON, str(script), str(workers), cptlint[0], str(path)], capture_output=True, text=True, check=True)
        runs[workers] = seconds, client_peak, worker_peak, client_cpu = tuple(map(float, out.stdout.split()))
        label = f"cptlint, {count:,} lines, Dask {workers} worker{'s' if workers > 1 else ''}"
        print(f"{label:<46} {seconds:8.3f} s {client_peak:8.1f} MB client, {worker_peak:.1f} MB a worker, client CPU {client_cpu:.1f} s", file=sys.stderr)
    one, two = runs[1][0], runs[2][0]
    rate = count / one  # lines a second of one worker
    client_cpu = max(runs[1][3], runs[2][3])
    api_lines = count // 10
    with path.open("rb") as whole, (root / "api.ndjson").open("wb") as part:
        for _, line in zip(range(api_lines), whole):
            part.write(line)
    path.unlink()
    (root / "api.py").write_text(LAKE_API)
    out = subprocess.run([PYTHON, str(root / "api.py"), str(root / "api.ndjson")], capture_output=True, text=True, check=True)
    read, shuffled, linted = map(float, out.stdout.split())
    print(f"{f'lake API, {api_lines:,} lines, 2 workers':<46} read {read:.3f} s, shuffle {shuffled:.3f} s, lint to Parquet {linted:.3f} s", file=sys.stderr)
    return [
        (f"lake, {count:,} lines: one machine / Dask 2 workers", local / two, "—"),
        ("lake: lines a second per worker (1 worker)", rate, "—"),
        ("lake: client CPU s (no worker shares it)", client_cpu, "—"),
        ("lake: 8 workers would take s", max(client_cpu, count / rate / 8), "—"),
        ("lake: 64 workers would take s", max(client_cpu, count / rate / 64), "—"),
        ("lake: workers past which the client is the limit", count / rate / client_cpu, "—"),
        ("lake: peak MB of a worker", max(runs[1][2], runs[2][2]), "—"),
        ("lake: peak MB of the client", max(runs[1][1], runs[2][1]), "—"),
        (f"lake API, {api_lines:,} lines, 2 workers: lint s", linted, "—"),
        ("lake API: its shuffle alone s", shuffled, "—"),
        ("lake API: lines a second per worker", api_lines / linted / 2, "—"),
    ]


def report(ratios: list[tuple[str, float, str]], repeat: int) -> None:
    print()
    print(f"{'measure':<52} {'ratio':>8}  target")
    for label, value, target in ratios:
        print(f"{label:<52} {value:8.2f}  {target}")
    print(f"\n(medians of {repeat} runs taking turns, NDJSON of 2, the lake of 1; {os.cpu_count()} cores; Python {sys.version.split()[0]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller corpora, for a smoke run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", default=None, help="passed to cptlint --jobs (default: its own)")
    parser.add_argument("--lake-only", action="store_true", help="only the lake (NDJSON on a local Dask cluster)")
    args = parser.parse_args()
    small, large, lines = (500, 5_000, 100_000) if args.quick else (2_000, 20_000, 1_000_000)
    claims = 2_500 if args.quick else 10_000
    lake_lines = int(os.environ.get("CPTLINT_BENCH_LAKE_LINES", 1_000_000 if args.quick else 10_000_000))
    cptlint = [tool("cptlint", "-e", str(REPO)), "check", "--format", "json", "--no-cache"]
    if args.jobs:
        cptlint += ["--jobs", args.jobs]
    if args.lake_only:
        with tempfile.TemporaryDirectory(prefix="cptlint-bench-") as scratch:
            report(lake(Path(scratch), lake_lines, cptlint), 1)
        return
    check_jsonschema = tool("check-jsonschema", "check-jsonschema")
    yamllint = tool("yamllint", "yamllint")
    if subprocess.run([PYTHON, "-c", "import yaml"], capture_output=True).returncode != 0:
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "pyyaml"], check=True)
    subprocess.run([PYTHON, "-c", "import yaml; assert yaml.__with_libyaml__, 'PyYAML without libyaml'"], check=True)
    if subprocess.run([PYTHON, "-c", "import pyx12"], capture_output=True).returncode != 0:
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "pyx12"], check=True)
    # A wheel install compiles cptlint's bytecode, as pip did for the peers; an editable one may
    # not (PYTHONDONTWRITEBYTECODE), so compile it here rather than time the compiler.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(REPO / "cptlint")], check=True, env=env, stdout=subprocess.DEVNULL)

    rows = []
    with tempfile.TemporaryDirectory(prefix="cptlint-bench-") as scratch:
        root = Path(scratch)
        corpus = root / "small"
        files = generate(corpus, small)
        listing = root / "small.txt"
        listing.write_text("\n".join(map(str, files)))
        big = root / "large"
        generate(big, large)
        ndjson = root / "lines.ndjson"
        generate_lines(ndjson, lines)
        claim_file, quarter_file = root / "claims.837", root / "quarter.837"
        generate_claims(claim_file, claims)
        generate_claims(quarter_file, claims // 4)

        def rows_of(labelled: list[tuple[str, list[str]]], repeat: int = args.repeat, cwd=None, before=None) -> list[float]:
            """Commands timed taking turns (see timed); their median seconds."""
            results = timed([command for _, command in labelled], repeat, cwd, before)
            for (label, _), (seconds, peak) in zip(labelled, results):
                rows.append((label, seconds, peak))
                print(f"{label:<46} {seconds:8.3f} s {peak:8.1f} MB", file=sys.stderr)
            return [seconds for seconds, _ in results]

        cached = [c for c in cptlint if c != "--no-cache"]
        ours, schema_only, parse, _ = rows_of(
            [
                (f"cptlint, {small} files", [*cptlint, str(corpus)]),
                (f"check-jsonschema, {small} files", [check_jsonschema, "--schemafile", str(SCHEMA), *map(str, files)]),
                (f"PyYAML CSafeLoader parse, {small} files", [PYTHON, "-c", PARSE_ONLY, str(listing)]),
                (f"yamllint, {small} files", [yamllint, "-d", "relaxed", str(corpus)]),
            ]
        )
        rows_of([(f"cptlint with cache, {small} files", [*cached, str(corpus)])], repeat=1, cwd=root)  # fills the cache
        (warm,) = rows_of([(f"cptlint with cache (again), {small} files", [*cached, str(corpus)])], cwd=root)
        # pre-commit on a small commit: the cache is on, as it is by default, so the rules data
        # is read from it; the file is one the commit changed, so its own result is not
        committed = root / "committed.yaml"

        def edit(round_: int) -> None:
            committed.write_text(files[0].read_text().replace("id: ENC-0", f"id: ENC-EDIT-{round_}"))

        edit(-1)
        one_ours, one_peer = rows_of(
            [
                ("cptlint, 1 changed file (cache on)", [*cached, str(committed)]),
                ("check-jsonschema, 1 file", [check_jsonschema, "--schemafile", str(SCHEMA), str(committed)]),
            ],
            cwd=root,
            before=edit,
        )
        ours_small_again, ours_large = rows_of(
            [(f"cptlint, {small} files (with the larger)", [*cptlint, str(corpus)]), (f"cptlint, {large} files", [*cptlint, str(big)])]
        )
        ours_lines, json_lines = rows_of(  # the long NDJSON file: twice, taking turns
            [
                (f"cptlint, {lines:,} NDJSON lines", [*cptlint, str(ndjson)]),
                (f"json.loads, {lines:,} NDJSON lines", [PYTHON, "-c", JSON_LINES, str(ndjson)]),
            ],
            repeat=2,
        )

        ours_claims, x12_segments, _ = rows_of(
            [
                (f"cptlint, {claims:,} claims 837P", [*cptlint, str(claim_file)]),
                (f"pyx12 X12Reader, {claims:,} claims 837P", [PYTHON, "-c", X12_SEGMENTS, str(claim_file)]),
                (f"cptlint, {claims // 4:,} claims 837P", [*cptlint, str(quarter_file)]),
            ]
        )
        lake_ratios = lake(root, lake_lines, cptlint)

    peak = {label: mb for label, _, mb in rows}
    ratios = [
        (f"{small} files: cptlint / check-jsonschema", ours / schema_only, "<= 0.5"),
        (f"{small} files: cptlint / CSafeLoader parse", ours / parse, "aim <= 2"),
        ("1 file: cptlint / check-jsonschema", one_ours / one_peer, "<= 0.5"),
        (f"{large} / {small} files: cptlint time", ours_large / ours_small_again, f"<= {1.1 * large / small:.0f}"),
        (
            f"{large} / {small} files: cptlint peak memory",
            peak[f"cptlint, {large} files"] / peak[f"cptlint, {small} files (with the larger)"],
            "flat",
        ),
        (f"{lines:,} NDJSON lines: cptlint / json.loads", ours_lines / json_lines, "<= 5"),
        (f"{lines:,} NDJSON lines: cptlint peak MB", peak[f"cptlint, {lines:,} NDJSON lines"], "< 200"),
        (f"{claims:,} claims 837P: cptlint / pyx12 X12Reader", ours_claims / x12_segments, "<= 2"),
        (
            f"837P peak memory: {claims:,} / {claims // 4:,} claims",
            peak[f"cptlint, {claims:,} claims 837P"] / peak[f"cptlint, {claims // 4:,} claims 837P"],
            "flat",
        ),
        (f"{small} files: second cached run / uncached", warm / ours, "—"),
        *lake_ratios,
    ]
    report(ratios, args.repeat)


if __name__ == "__main__":
    main()
