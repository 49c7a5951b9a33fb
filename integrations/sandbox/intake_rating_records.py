"""A rating (好差评) as the sandbox platform holds it, in the JSON shape of docs/intake-api.yaml
(``Rating``). The rater is kept but never shown: not in any answer, not in any event, so no
department ever sees who rated (国办发〔2019〕51号)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from integrations.sandbox.intake_models import Json
from integrations.sandbox.intake_time import iso


@dataclass
class RatingRecord:
    rating_id: str
    application_id: str
    item_key: str | None
    level: str
    indicators: list[str]
    reasons: list[str]
    comment: str | None
    rater: Json | None
    rated_at: str
    received_at: datetime
    department_name: str
    state: str = "received"
    sequence: int = 0
    events: list[Json] = field(default_factory=list)
    rectification_rating: Json | None = None

    @property
    def rater_id_number(self) -> str | None:
        return None if self.rater is None else str(self.rater.get("id_number"))

    def to_json(self) -> Json:
        following = bool(self.events) or self.state != "received"
        done = self.state in ("explained", "reviewed", "closed")
        return {
            "rating_id": self.rating_id,
            "application_id": self.application_id,
            "item_key": self.item_key,
            "level": self.level,
            "indicators": list(self.indicators),
            "reasons": list(self.reasons),
            "state": self.state,
            "sequence": self.sequence,
            "rated_at": self.rated_at,
            "received_at": iso(self.received_at),
            "follow_up": {
                "status": "done" if done else "open" if following else "none",
                "events": [dict(event) for event in self.events],
            },
            "rectification_rating": self.rectification_rating,
        }
