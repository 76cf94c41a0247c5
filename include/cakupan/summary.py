"""The short summary `make demo` ends with: what a BI user would look at first."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Summary:
    month: str
    residents: int
    participants: int
    coverage_pct: float
    active_pct: float
    districts: int
    districts_meeting_uhc: int
    rule_code: str
    lowest: list[tuple[str, str, float]]

    def lines(self) -> list[str]:
        out = [
            f"Latest month: {self.month} (UHC rule {self.rule_code})",
            f"National coverage: {self.coverage_pct:.2f} % "
            f"({self.participants:,} participants of {self.residents:,} residents), "
            f"active {self.active_pct:.2f} %",
            f"Districts meeting UHC: {self.districts_meeting_uhc} of {self.districts}",
            "Five lowest districts:",
        ]
        out += [f"  {code}  {name:<32} {pct:6.2f} %" for code, name, pct in self.lowest]
        return out


def read_summary(conn) -> Summary:
    with conn.cursor() as cur:
        cur.execute(
            "select max(month) from marts.fct_coverage_district_month where has_membership_data"
        )
        (month,) = cur.fetchone()
        cur.execute(
            """
            select sum(residents), sum(participants), sum(active_participants),
                   count(*), count(*) filter (where meets_uhc), min(uhc_rule_code)
            from marts.fct_coverage_district_month
            where month = %s
            """,
            (month,),
        )
        residents, participants, active, districts, meeting, rule = cur.fetchone()
        cur.execute(
            """
            select fact.district_code,
                   initcap(dim.district_type) || ' ' || dim.district_name,
                   fact.coverage_pct
            from marts.fct_coverage_district_month as fact
            join marts.dim_districts as dim on dim.district_code = fact.district_code
            where fact.month = %s and fact.coverage_pct is not null
            order by fact.coverage_pct, fact.district_code
            limit 5
            """,
            (month,),
        )
        lowest = [(code, name, float(pct)) for code, name, pct in cur.fetchall()]
    return Summary(
        month=month.strftime("%Y-%m"),
        residents=int(residents or 0),
        participants=int(participants or 0),
        coverage_pct=100.0 * float(participants) / float(residents) if residents else 0.0,
        active_pct=100.0 * float(active) / float(participants) if participants else 0.0,
        districts=districts,
        districts_meeting_uhc=meeting,
        rule_code=rule or "?",
        lowest=lowest,
    )
