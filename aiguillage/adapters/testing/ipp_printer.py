"""A tiny IPP printer on loopback: parses each Print-Job (header, attributes, document) and answers with a job id.

`statuses` scripts the IPP status of successive answers (e.g. 0x0507
server-error-busy, then 0x0000 successful-ok).
"""

from __future__ import annotations

from aiguillage.adapters import ipp
from aiguillage.adapters.testing.http_server import Answer, LoopbackHttpServer, Received


class LoopbackIppPrinter(LoopbackHttpServer):
    """`with LoopbackIppPrinter() as printer:` then print to `printer.uri`; `printer.jobs` holds decoded requests."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [0x0000])
        self.jobs: list[ipp.IppMessage] = []
        super().__init__(responder=self._answer)

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/printers/invoices"

    def _answer(self, request: Received) -> Answer:
        try:
            job = ipp.decode(request.body)
        except ValueError as exc:
            return Answer(400, str(exc).encode(), "text/plain")
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status >= 0x0400:
            return Answer(200, ipp.encode_response(status, job.request_id, message="scripted refusal"), "application/ipp")
        self.jobs.append(job)
        return Answer(200, ipp.encode_response(status, job.request_id, job_id=100 + len(self.jobs),
                                               message="successful-ok"), "application/ipp")
