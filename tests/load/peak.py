"""The estimated peak, as arithmetic (docs/load.md shows the same steps with their sources):
a province's one-things a year → the busiest minute's applications per second → requests per
second by kind (browse, apply, track, rate) → per portal process of the reference deployment
→ the load one process gets at a multiple of the peak (3× for the full run)."""

from __future__ import annotations

import math
from dataclasses import dataclass

KINDS = ("browse", "apply", "track", "rate")
# Seconds between two visits of one simulated user, by kind: users = rate × period.
# Longer than a visit takes under load, so that slow answers do not lower the offered rate.
PERIODS = {"browse": 10.0, "apply": 60.0, "track": 8.0, "rate": 16.0}


@dataclass(frozen=True)
class Estimate:
    # Henan: ~98 million residents; ~0.7 M births, ~0.8 M deaths, ~0.8 M retirements and ~1 M
    # new businesses a year drive 3.3 M life events behind the four biggest one-things; the
    # other 21 as many again; 60% of them applied for online → ~4 M applications a year.
    applications_per_year: float = 4_000_000
    working_days: float = 250
    busy_day_factor: float = 1.5  # a Monday or the day after a holiday against the mean
    busiest_hour_share: float = 0.15  # of a day's traffic, 9–10 h
    busiest_minutes_factor: float = 2.0  # the busiest minutes against the hour's mean
    # Visits per application (people who only look are counted in browse) and the portal
    # requests of one visit as tests/load/locustfile.py makes them.
    browse_visits: float = 4.0
    browse_requests: float = 4.0
    apply_visits: float = 1.0
    apply_requests: float = 24.0
    track_visits: float = 3.0
    track_requests: float = 4.0
    rate_visits: float = 0.5
    rate_requests: float = 3.0
    # Reference deployment (docs/deploy.md): 2 hosts × `portal serve --workers 4`.
    processes: int = 8

    @property
    def applications_per_second(self) -> float:
        per_day = self.applications_per_year / self.working_days * self.busy_day_factor
        return per_day * self.busiest_hour_share / 3600 * self.busiest_minutes_factor

    def visits_per_second(self) -> dict[str, float]:
        """Province-wide, at the peak."""
        a = self.applications_per_second
        return {
            "browse": a * self.browse_visits,
            "apply": a * self.apply_visits,
            "track": a * self.track_visits,
            "rate": a * self.rate_visits,
        }

    def requests_per_second(self) -> dict[str, float]:
        """Province-wide, at the peak."""
        per_visit = {
            "browse": self.browse_requests,
            "apply": self.apply_requests,
            "track": self.track_requests,
            "rate": self.rate_requests,
        }
        return {k: v * per_visit[k] for k, v in self.visits_per_second().items()}

    def per_process(self, multiple: float) -> dict[str, float]:
        """Visits per second by kind that one portal process gets at ``multiple`` × peak."""
        return {k: v * multiple / self.processes for k, v in self.visits_per_second().items()}


ESTIMATE = Estimate()


def users_for(kind: str, rate: float) -> int:
    """Users of one kind, each making one visit per PERIODS[kind] at the target ``rate``."""
    return max(1, math.ceil(rate * PERIODS[kind])) if rate > 0 else 0


def main() -> None:
    """Prints the arithmetic (docs/load.md quotes this output)."""
    e = ESTIMATE
    print(f"applications at the peak: {e.applications_per_second:.2f}/s province-wide")
    for kind, visits in e.visits_per_second().items():
        rps = e.requests_per_second()[kind]
        print(f"{kind:7} {visits:6.2f} visits/s {rps:7.1f} requests/s province-wide")
    total = sum(e.requests_per_second().values())
    print(f"total   {total:.1f} requests/s province-wide, {total / e.processes:.1f} per process")
    for kind, visits in e.per_process(3).items():
        print(f"3× per process: {kind:7} {visits:.3f} visits/s")


if __name__ == "__main__":
    main()
