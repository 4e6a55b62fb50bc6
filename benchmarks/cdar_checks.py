"""The French CDV rules on CDAR lifecycle messages: our checks beside the official XSLT, same messages, same run.

    python benchmarks/cdar_checks.py [--messages 2000]

Writes one message per lifecycle status (`fr.cdar.write`), then times, per
message: parsing plus our checks (`fr.cdar_checks.check`, lxml XPath), and
the official FNFE-MPE 1.4.0 XSLT in Saxon-HE (`saxonche`, parsing included,
stylesheet compiled once). Also checks both agree on every message.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from aiguillage.fr import cdar
from aiguillage.fr.cdar_checks import check
from aiguillage.fr.statuses import STATUSES

REASONS = {"200": "NON_TRANSMISE", "206": "PU_ERR", "207": "QTE_ERR", "208": "JUSTIF_ABS", "210": "TX_TVA_ERR",
           "213": "REJ_SEMAN", "221": "ROUTAGE_ERR", "501": "IRR_SYNTAX"}


def messages() -> list[bytes]:
    out = []
    for code in STATUSES:
        cashed = [cdar.Cashed(Decimal("1200"), Decimal("20"))] if code == "212" else []
        line = cdar.StatusLine("F2026-0120", code, date(2026, 11, 26), seller_siren="412345678",
                               reason_code=REASONS.get(code), cashed=cashed)
        out.append(cdar.write(cdar.status_message(
            message_id=f"CDV-{code}", issued_at=datetime(2026, 12, 1, tzinfo=UTC), line=line,
            sender=cdar.Party("BY", "550123459", "Distrilux", "550123459"),
            recipient=cdar.Party("SE", "412345678", "Atelier Lumière", "412345678"))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    base = Path(os.environ.get("AIGUILLAGE_CONFORMANCE", Path(__file__).resolve().parents[2] / "shared" / "conformance"))
    xslt = base / "fr" / "cdar" / "BR-FR-CDV-Schematron-CDAR.xslt"
    corpus = messages()
    runs = [corpus[i % len(corpus)] for i in range(args.messages)]
    started = time.perf_counter()
    ours = [{f.rule_id for f in check(m)} for m in runs]
    our_time = time.perf_counter() - started

    import saxonche

    with saxonche.PySaxonProcessor(license=False) as processor:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xslt))
        started = time.perf_counter()
        theirs = []
        for message in runs:
            report = executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=message.decode("utf-8")))
            theirs.append(set(re.findall(r'<svrl:failed-assert[^>]*?id="([^"]+)"', report)))
        their_time = time.perf_counter() - started
    agree = sum(a == b for a, b in zip(ours, theirs, strict=True))
    print(f"{args.messages} CDAR messages ({len(corpus)} statuses), {len(corpus[0])} bytes each about")
    print(f"ours (lxml parse + XPath rules):                   {our_time / args.messages * 1e6:8.1f} µs/message")
    print(f"official XSLT (Saxon-HE, parse included):          {their_time / args.messages * 1e6:8.1f} µs/message")
    print(f"speed-up: {their_time / our_time:.1f}x; verdicts agree on {agree}/{args.messages}")


if __name__ == "__main__":
    main()
