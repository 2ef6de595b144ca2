#!/usr/bin/env python3
"""Writes tests/fixtures/scaledjobs/KLxxx/ from tests/fixtures/rules/KLxxx/ for the KL1xx-KL4xx
rules: each ScaledObject becomes the ScaledJob that carries the same triggers
(`kind: ScaledJob`, a `jobTargetRef` in place of `scaleTargetRef`, `maxReplicaCount` set, no
trigger `metricType`, which a ScaledJob must not set: KL321). tests/scaled_jobs.rs checks that
each rule that applies to ScaledJobs reports the same problems on them as on the ScaledObjects,
and that each ScaledObject-only rule (HPA arithmetic) is silent on them. Run from the repository
root after changing a trigger rule's fixtures; review the diff like any other fixture change."""

import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "fixtures" / "rules"
TARGET = ROOT / "tests" / "fixtures" / "scaledjobs"

TARGET_REF = re.compile(r"^(?P<i> +)scaleTargetRef:\n(?P=i)  name: (?P<name>\S+)\n", re.M)


def job_ref(m: re.Match, has_max: bool) -> str:
    i, name = m.group("i"), m.group("name")
    return (
        ("" if has_max else f"{i}maxReplicaCount: 10\n")
        + f"{i}jobTargetRef:\n"
        f"{i}  template:\n"
        f"{i}    spec:\n"
        f"{i}      restartPolicy: Never\n"
        f"{i}      containers:\n"
        f"{i}        - name: {name}\n"
        f"{i}          image: example.com/{name}:1\n"
    )


def convert(text: str) -> str:
    docs = []
    for doc in text.split("\n---\n"):
        if "kind: ScaledObject" in doc:
            doc = doc.replace("kind: ScaledObject", "kind: ScaledJob")
            has_max = re.search(r"^ +maxReplicaCount:", doc, re.M) is not None
            doc, n = TARGET_REF.subn(lambda m: job_ref(m, has_max), doc)
            assert n == 1, "every ScaledJob needs its jobTargetRef"
            doc = re.sub(r"^ +metricType: \S+\n", "", doc, flags=re.M)
        docs.append(doc)
    return "\n---\n".join(docs)


def main() -> None:
    for rule in sorted(SOURCE.iterdir()):
        if not re.fullmatch(r"KL[1-4]\d\d", rule.name):
            continue
        out = TARGET / rule.name
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(rule.iterdir()):
            if f.suffix == ".yaml":
                (out / f.name).write_text(convert(f.read_text()))
            else:
                shutil.copy(f, out / f.name)


if __name__ == "__main__":
    main()
