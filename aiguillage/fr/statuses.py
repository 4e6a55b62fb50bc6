"""The French invoice lifecycle: every status code the CDV rules allow, its label, and what it sets off.

The codes and the reason codes per status come from the FNFE-MPE CDV
Schematron 1.4.0 (BR-FR-CDV-CL-06 and CL-09). Labels are those of the
reform's external specifications for the codes they name; the few codes the
Schematron lists without a published label here keep a neutral one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Effect(StrEnum):
    """What a status does to the invoice's workflows when it first arrives."""

    #: 207 En litige: a query opens (reminders pause).
    OPEN_QUERY = "open_query"
    #: 210 Refusée, 213 Rejetée: payment reminders stop and the AR team is told.
    STOP_AND_NOTIFY = "stop_and_notify"
    #: 211 Paiement transmis, 212 Encaissée: the payment is recorded (reminders stop).
    RECORD_PAYMENT = "record_payment"
    #: 501 Irrecevable, 221 Erreur de routage: the AR team is told (the invoice must be fixed and re-sent).
    NOTIFY = "notify"


@dataclass(frozen=True)
class Status:
    """One lifecycle status."""

    code: str
    label_fr: str
    label_en: str
    #: Whether the invoice's lifecycle ends here (nothing normal follows).
    final: bool = False
    #: Whether BR-FR-CDV-15 demands a reason code (MDT-113).
    needs_reason: bool = False
    #: The reason codes BR-FR-CDV-CL-09 allows for it; None = any code of the list.
    reasons: frozenset[str] | None = None
    effect: Effect | None = None


_R213 = frozenset({"MONTANTTOTAL_ERR", "CALCUL_ERR", "DOUBLON", "DEST_INC", "ADR_ERR", "REJ_SEMAN", "REJ_UNI",
                   "REJ_COH", "REJ_ADR", "REJ_CONT_B2G", "REJ_REF_PJ", "REJ_ASS_PJ"})
_R210 = frozenset({"TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON", "DEST_ERR",
                   "TRANSAC_INC", "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT", "CMD_ERR", "ADR_ERR", "REF_CT_ABSENT"})
#: Reasons a public buyer (B2G, sender 9999) may give for 210, beyond those of B2B.
R210_B2G = frozenset({"RETRAIT_MAN_SERV", "ST_CT_NON_DECLAR", "SUPPR_COMP_AVOIR", "TRANSF_PMNT_REGIE", "AUTRE",
                      "COORD_BANC_ERR", "TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON",
                      "DEST_ERR", "TRANSAC_INC", "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT", "CMD_ERR", "ADR_ERR",
                      "REF_CT_ABSENT", "LIVR_INCOMP"})
_R207 = frozenset({"AUTRE", "COORD_BANC_ERR", "TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME",
                   "DOUBLON", "DEST_INC", "DEST_ERR", "TRANSAC_INC", "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT",
                   "CMD_ERR", "ADR_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR", "REF_CT_ABSENT", "REF_ERR", "PU_ERR",
                   "REM_ERR", "QTE_ERR", "ART_ERR", "MODPAI_ERR", "QUALITE_ERR", "LIVR_INCOMP"})
_R206 = frozenset({"AUTRE", "CMD_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR", "REF_CT_ABSENT", "REF_ERR", "PU_ERR",
                   "REM_ERR", "QTE_ERR", "ART_ERR", "MODPAI_ERR", "QUALITE_ERR", "LIVR_INCOMP"})
_R208 = frozenset({"JUSTIF_ABS", "COORD_BANC_ERR", "CMD_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR", "REF_CT_ABSENT",
                   "REF_ERR"})
_R501 = frozenset({"IRR_VIDE_F", "IRR_TYPE_F", "IRR_SYNTAX", "IRR_TAILLE_PJ", "IRR_NOM_PJ", "IRR_VID_PJ",
                   "IRR_EXT_DOC", "IRR_TAILLE_F", "IRR_ANTIVIRUS", "IRR_NOM_F"})

#: Every reason code (MDT-113) of BR-FR-CDV-CL-09.
REASON_CODES = frozenset(
    ["RETRAIT_MAN_SERV", "ST_CT_NON_DECLAR", "SUPPR_COMP_AVOIR", "TRANSF_PMNT_REGIE", "CONTACT_ACHTR", "NON_TRANSMISE", "JUSTIF_ABS", "ROUTAGE_ERR", "AUTRE", "COORD_BANC_ERR", "TX_TVA_ERR", "MONTANTTOTAL_ERR", "CALCUL_ERR", "NON_CONFORME", "DOUBLON", "DEST_INC", "DEST_ERR", "TRANSAC_INC", "EMMET_INC", "CONTRAT_TERM", "DOUBLE_FACT", "CMD_ERR", "ADR_ERR", "SIRET_ERR", "CODE_ROUTAGE_ERR", "REF_CT_ABSENT", "REF_ERR", "PU_ERR", "REM_ERR", "QTE_ERR", "ART_ERR", "MODPAI_ERR", "QUALITE_ERR", "LIVR_INCOMP", "REJ_SEMAN", "REJ_UNI", "REJ_COH", "REJ_ADR", "REJ_CONT_B2G", "REJ_REF_PJ", "REJ_ASS_PJ", "IRR_VIDE_F", "IRR_TYPE_F", "IRR_SYNTAX", "IRR_TAILLE_PJ", "IRR_NOM_PJ", "IRR_VID_PJ", "IRR_EXT_DOC", "IRR_TAILLE_F", "IRR_ANTIVIRUS", "IRR_NOM_F"]
)

_ALL = (
    Status("200", "Déposée", "Filed", reasons=frozenset({"NON_TRANSMISE"})),
    Status("201", "Émise par la plateforme", "Issued by the platform"),
    Status("202", "Reçue par la plateforme", "Received by the platform"),
    Status("203", "Mise à disposition", "Made available"),
    Status("204", "Prise en charge", "Taken over"),
    Status("205", "Approuvée", "Approved"),
    Status("206", "Approuvée partiellement", "Partly approved", needs_reason=True, reasons=_R206),
    Status("207", "En litige", "Disputed", needs_reason=True, reasons=_R207, effect=Effect.OPEN_QUERY),
    Status("208", "Suspendue", "Suspended", needs_reason=True, reasons=_R208),
    Status("209", "Complétée", "Completed"),
    Status("210", "Refusée", "Refused", final=True, needs_reason=True, reasons=_R210, effect=Effect.STOP_AND_NOTIFY),
    Status("211", "Paiement transmis", "Payment sent", effect=Effect.RECORD_PAYMENT),
    Status("212", "Encaissée", "Cashed", final=True, effect=Effect.RECORD_PAYMENT),
    Status("213", "Rejetée", "Rejected", final=True, needs_reason=True, reasons=_R213, effect=Effect.STOP_AND_NOTIFY),
    Status("214", "Visée", "Endorsed"),
    Status("220", "Annulée", "Cancelled", final=True),
    Status("221", "Erreur de routage", "Routing error", reasons=frozenset({"ROUTAGE_ERR"}), effect=Effect.NOTIFY),
    Status("224", "Demande de paiement direct", "Direct payment requested"),
    Status("225", "Affacturée", "Factored"),
    Status("226", "Affacturée confidentiel", "Factored (confidential)"),
    Status("227", "Changement de compte à payer", "Payee account changed"),
    Status("228", "Non affacturée", "Not factored"),
    Status("250", "Statut 250", "Status 250"),
    Status("251", "Statut 251", "Status 251"),
    Status("300", "Statut 300", "Status 300"),
    Status("301", "Statut 301", "Status 301"),
    Status("400", "Statut 400", "Status 400"),
    Status("401", "Statut 401", "Status 401"),
    Status("500", "Statut 500", "Status 500"),
    Status("501", "Irrecevable", "Inadmissible", final=True, needs_reason=True, reasons=_R501, effect=Effect.NOTIFY),
    Status("601", "Statut 601", "Status 601"),
)

#: Every status by code, in lifecycle order.
STATUSES: dict[str, Status] = {status.code: status for status in _ALL}

#: Statuses the supplier (seller) itself may send to its PA.
SELLER_STATUSES = frozenset({"211", "212", "220", "224", "225", "226", "227", "228"})


def status(code: str) -> Status:
    """The status for `code`; KeyError names the known codes."""
    try:
        return STATUSES[code]
    except KeyError:
        raise KeyError(f"unknown lifecycle status {code!r}; known: {', '.join(STATUSES)}") from None


def reason_error(code: str, reason_code: str | None) -> str | None:
    """Why `reason_code` cannot go with status `code` (None when it can), as BR-FR-CDV-15 and CL-09 say."""
    known = status(code)
    if reason_code is None:
        return f"status {code} ({known.label_fr}) needs a reason code" if known.needs_reason else None
    if reason_code not in REASON_CODES:
        return f"unknown reason code {reason_code!r}"
    if known.reasons is not None and reason_code not in known.reasons:
        return f"reason {reason_code} is not allowed with status {code} ({known.label_fr}); allowed: {', '.join(sorted(known.reasons))}"
    return None
