"""France's e-invoicing reform, exchange side: lifecycle statuses (CDAR), following flows at the PA.

`statuses` is the French lifecycle (codes, labels, reasons, what each status
sets off); `cdar` reads and writes the status message (UN/CEFACT CDAR D22B);
`cdar_checks` applies the French CDV rules to one; `tracking` records statuses
in the store and lets them drive the invoice workflows.
"""
