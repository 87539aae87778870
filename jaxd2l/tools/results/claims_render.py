"""The claims' record rendered: the README's verdict line and the Results page's table,
each naming every claim's primary parts and their verdicts."""

from __future__ import annotations

from jaxd2l.tools.results.provenance import line


def _source(payload: dict) -> str:
    return f"Source: `results/{payload['name']}.json`, {line(payload['provenance'])}."


def _missing(name: str) -> str:
    return f"(no record yet: `make results NAMES={name}` makes it)"


def _parts(claim: dict) -> str:
    """A claim's primary parts and their verdicts, for a line or a cell."""
    parts = [p for p in claim.get("parts") or () if p.get("primary")]
    return "; ".join(f"{p['name']}: {p['verdict']}" for p in parts)


def claims_line(records: dict) -> str:
    """Which of the note's claims hold, which do not hold here, which are inconclusive and
    which depend (each with its parts' verdicts); a smoke run says so."""
    payload = records.get("claims")
    if payload is None:
        return _missing("claims")
    final, claims = payload["record"]["final"], payload["record"].get("claims", [])
    verdicts, by_name = final["verdicts"], {c["name"]: c for c in claims}
    said = []
    for verdict in ("holds", "does not hold here", "depends", "inconclusive"):
        names = [n for n, v in verdicts.items() if v == verdict]
        if verdict != "holds":  # a failure or an open question names its parts
            names = [
                f"{n} ({_parts(by_name[n])})" if _parts(by_name.get(n, {})) else n for n in names
            ]
        if names:
            said.append(f"**{verdict}**: {', '.join(names)}")
    smoke = "A smoke run (--quick): these verdicts mean nothing. " if final.get("quick") else ""
    return f"{smoke}{len(verdicts)} claims. {'; '.join(said)}.\n\n{_source(payload)}"


def claims_table(records: dict) -> str:
    """One row per claim: what the note says, what was measured, the verdict."""
    payload = records.get("claims")
    if payload is None:
        return _missing("claims")
    rows = [
        "| # | the note says | verdict | each primary part | measured |",
        "|---|---|---|---|---|",
    ]
    for c in payload["record"]["claims"]:
        cell = lambda s: str(s).replace("|", "\\|")  # noqa: E731
        rows.append(
            f"| {c['number']} | {cell(c['note'])} | **{c['verdict']}** | {cell(_parts(c))} | "
            f"{cell(c['reason'])} |"
        )
    return "\n".join(rows) + f"\n\n{_source(payload)}"
