"""The billing rules an organization bills under: its settings, then each payer's rule.

The month worklist, the caseload's minutes to the next threshold and the chart all decide
with these, so the three show the same numbers.
"""

from dataclasses import dataclass, field, replace

from cocm.accounts.models import Organization
from cocm.billing.models import BillingSettings, PayerRule
from cocm.domain import coding


@dataclass(frozen=True)
class OrganizationRules:
    base: coding.BillingRules = coding.DEFAULT_RULES
    by_payer: dict[str, coding.BillingRules] = field(default_factory=dict)

    def for_payer(self, payer_kind: str) -> coding.BillingRules:
        return self.by_payer.get(payer_kind, self.base)

    @property
    def key(self) -> str:
        """Changes whenever any rule does (for stored results computed under them)."""
        return repr((self.base, sorted(self.by_payer.items())))


DEFAULT_ORGANIZATION_RULES = OrganizationRules()


def organization_rules(organization: Organization) -> OrganizationRules:
    """The organization's billing settings, and each payer's rule on top of them."""
    settings = BillingSettings.objects.filter(organization=organization).first()
    base = coding.DEFAULT_RULES
    if settings is not None:
        base = replace(
            base,
            restart_on_reenrollment=settings.restart_on_reenrollment,
            first_short_month_is_initial=settings.first_short_month_is_initial,
            g2214_in_initial_31_to_35=settings.g2214_in_initial_31_to_35,
        )
    by_payer = {
        rule.payer_kind: replace(
            base,
            max_99494_units=rule.max_99494_units,
            count_consultant_minutes=rule.count_consultant_minutes,
            count_inpatient_minutes=rule.count_inpatient_minutes,
        )
        for rule in PayerRule.objects.filter(organization=organization)
    }
    return OrganizationRules(base, by_payer)
