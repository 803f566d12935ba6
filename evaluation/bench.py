"""``make bench``: every benchmark in one invocation, and one report (eval/bench.md, also
printed) with each part's tables under its heading.

Each part runs as a process of its own, one after another, so one part's warm caches, threads
or memory never colour the next one's figures; each part also keeps its own report file. A
part that fails is named in the report and makes the whole run fail, after the other parts ran.

Usage: ``python -m evaluation.bench --data ../shared/data/clean``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from evaluation.report import write_report


@dataclass(frozen=True)
class Part:
    title: str
    module: str
    arguments: tuple[str, ...]
    report: str

    def command(self, data: Path) -> list[str]:
        arguments = [argument.format(data=data) for argument in self.arguments]
        return [sys.executable, "-m", f"evaluation.{self.module}", *arguments,
                "--out", self.report]


PARTS = (
    Part("Cost per article by stage", "stage_costs", ("--data", "{data}"),
         "eval/stage-costs.md"),
    Part("English entity speed", "english_speed", ("--data", "{data}"),
         "eval/english-speed.md"),
    Part("Growth of each text stage on adversarial text", "growth", ("--data", "{data}"),
         "eval/growth.md"),
    Part("Scaling: workers against `newsstream process`", "throughput",
         ("--data", "{data}", "--copies", "2"), "eval/throughput.md"),
    Part("Latency under load", "latency", ("--data", "{data}"), "eval/latency.md"),
    Part("Memory over a stream (short; `make soak` runs 100,000 articles)", "memory",
         # The worker's tables fill over the first ~1,500 articles (+9 % from 200 to 2,000)
         ("--data", "{data}", "--articles", "3000", "--warmup", "1500"),
         "eval/bench-memory.md"),
    Part("Counting path without NLP", "counting", ("--articles", "2000", "--entities", "15"),
         "eval/counting.md"),
    Part("Entity queries", "queries", ("--entities", "10000", "--workers", "2"),
         "eval/queries.md"),
    Part("Bytes on the wire", "wire",
         ("--input", "{data}/aeb/html.jsonl.gz", "--input", "{data}/idnews/html.jsonl.gz",
          "--input", "{data}/idnews/text.jsonl.gz"), "eval/wire.md"),
    Part("WARC in", "warc", ("--data", "{data}", "--records", "3000"), "eval/warc.md"),
    Part("Restart to ready", "restart", ("--keys", "1000000",), "eval/restart.md"),
    Part("Dashboard in a browser", "dashboard", ("--entities", "10000", "--articles", "5000"),
         "eval/dashboard.md"),
)


def compose(sections: list[tuple[str, str]], minutes: float) -> str:
    """The report: a line on how it was made, then each part's report under its heading."""
    head = (f"# `make bench`\n\nAll parts in one invocation ({minutes:.0f} min), one after "
            f"another, each in a process of its own; every figure sits next to its baseline "
            f"from the same part.")
    return "\n\n".join([head, *(f"## {title}\n\n{body.strip()}" for title, body in sections)])


def splice(report: str, sections: list[tuple[str, str]]) -> str:
    """``report`` (a whole `make bench` report) with these parts' sections replaced, in
    place, or added at the end: running one part keeps the others' figures."""
    blocks = report.rstrip("\n").split("\n\n## ")
    titles = [block.partition("\n")[0] for block in blocks]
    for title, body in sections:
        block = f"{title}\n\n{body.strip()}"
        if title in titles[1:]:
            blocks[titles.index(title)] = block
        else:
            blocks.append(block)
            titles.append(title)
    return "\n\n## ".join(blocks)


def run_part(part: Part, data: Path) -> tuple[str, bool]:
    """A part's report, or why there is none; and whether it succeeded."""
    report = Path(part.report)
    report.unlink(missing_ok=True)
    print(f"\n== {part.title}", flush=True)
    command = part.command(data)
    code = subprocess.run(command, check=False).returncode
    if code != 0:
        return f"**Failed** (`{' '.join(command[1:])}` exited with {code}).", False
    return report.read_text(encoding="utf-8"), True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/clean"))
    parser.add_argument("--out", type=Path, default=Path("eval/bench.md"))
    parser.add_argument("--part", action="append", choices=[part.module for part in PARTS],
                        help="run only these parts (default: all)")
    args = parser.parse_args()
    started = time.perf_counter()
    sections: list[tuple[str, str]] = []
    failed = []
    for part in PARTS:
        if args.part and part.module not in args.part:
            continue
        body, succeeded = run_part(part, args.data)
        sections.append((part.title, body))
        if not succeeded:
            failed.append(part.title)
    report = compose(sections, (time.perf_counter() - started) / 60)
    print("\n" + report, flush=True)
    if args.part and args.out.exists():
        # Only some parts ran: the others' sections stay as the last full run wrote them.
        report = splice(args.out.read_text(encoding="utf-8"), sections)
    write_report(args.out, report)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
