"""The ads server's argument types and result models (the outputSchema every tool advertises)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from servers.common.inputs import INT_MAX

# --- arguments shared by many tools -------------------------------------------------------------

Site = Annotated[str, Field(description="Site id the call acts on, e.g. 'us', 'de', 'jp'")]
StartDate = Annotated[str | None, Field(description="First day, ISO date (default: 30 days before end_date)")]
EndDate = Annotated[str | None, Field(description="Last day, ISO date, inclusive (default: today)")]
Limit = Annotated[int, Field(ge=1, le=500, description="Rows per page (at most 500)")]
Offset = Annotated[int, Field(ge=0, le=INT_MAX, description="Rows to skip, for paging")]
Descending = Annotated[bool, Field(description="Sort largest first")]
NameContains = Annotated[str | None, Field(max_length=200, description="Case-insensitive substring of the name")]

Platform = Literal["amazon", "meta", "google"]
CampaignType = Literal["SP", "SB", "SD"]
Targeting = Literal["auto", "manual"]
State = Literal["enabled", "paused", "archived"]
LiveState = Literal["enabled", "paused"]
MatchType = Literal["exact", "phrase", "broad"]
TargetMatchType = Literal["exact", "phrase", "broad", "auto"]  # "auto": an auto campaign's targeting clause
NegativeMatchType = Literal["negative_exact", "negative_phrase"]
MetricName = Literal["spend", "sales", "orders", "clicks", "impressions", "acos", "roas", "ctr", "cvr", "cpc"]
METRIC_NAMES: tuple[str, ...] = MetricName.__args__

# Write protocol arguments (servers/market/writes.py). Optional business arguments default to None
# so that an omitted argument and its default hash the same for the approval token.
DryRun = Annotated[bool, Field(description="Only describe the change (before → after); needs no approval")]
Token = Annotated[str | None, Field(description="Approval token from the console; required unless dry_run")]
IdemKey = Annotated[str | None, Field(description="Idempotency key: a repeated delivery is not applied twice")]
Before = Annotated[dict[str, Any] | None, Field(description="Values the approver saw; a mismatch answers CONFLICT")]
Bid = Annotated[float, Field(gt=0, le=100_000, description="Bid per click in the site's currency")]
Budget = Annotated[float, Field(gt=0, le=21_000_000, description="Daily budget in the site's currency")]
Name = Annotated[str, Field(min_length=1, max_length=200, description="Display name")]
KeywordText = Annotated[str, Field(min_length=1, max_length=200, description="Keyword text as shoppers type it")]
Asin = Annotated[str, Field(pattern=r"^[Bb]0[A-Za-z0-9]{8}$", description="Amazon product id: B0 and 8 letters or digits")]


# --- results ------------------------------------------------------------------------------------


class Metrics(BaseModel):
    """Ad performance over a date range; ratios are null when their divisor is zero."""

    impressions: int = 0
    clicks: int = 0
    spend: float = 0.0
    orders: int = 0
    sales: float = 0.0
    acos: float | None = Field(None, description="spend / sales (0.25 = 25%)")
    roas: float | None = Field(None, description="sales / spend")
    ctr: float | None = Field(None, description="clicks / impressions")
    cvr: float | None = Field(None, description="orders / clicks")
    cpc: float | None = Field(None, description="spend / clicks")


TOTAL_FIELD = Field(description="Rows matching the filters, before paging")
TOTALS_FIELD = Field(description="Metrics summed over every row matching the filters (all pages)")


class Profile(BaseModel):
    id: int
    site: str
    platform: str
    account_name: str
    account_type: str


class ProfileList(BaseModel):
    profiles: list[Profile]


class RegionInfo(BaseModel):
    site: str
    name: str
    marketplace: str
    region: str = Field(description="Advertising region: NA, EU or FE")
    api_endpoint: str = Field(description="Amazon Ads API host serving the region")
    currency: str
    timezone: str
    acos_target: float
    platforms: list[str] = Field(description="Ad platforms with a profile on this site")


class CampaignRow(Metrics):
    id: int
    name: str
    platform: str
    campaign_type: str
    targeting: str
    state: str
    daily_budget: float
    profile_id: int
    start_date: str


class CampaignList(BaseModel):
    site: str
    start_date: str
    end_date: str
    total: int = TOTAL_FIELD
    totals: Metrics = TOTALS_FIELD
    campaigns: list[CampaignRow]


class AdGroupRow(Metrics):
    id: int
    campaign_id: int
    campaign_name: str
    name: str
    default_bid: float
    state: str


class AdGroupList(BaseModel):
    site: str
    start_date: str
    end_date: str
    total: int = TOTAL_FIELD
    totals: Metrics = TOTALS_FIELD
    ad_groups: list[AdGroupRow]


class KeywordRow(Metrics):
    id: int
    campaign_id: int
    campaign_name: str
    ad_group_id: int
    text: str
    match_type: str
    bid: float
    state: str


class KeywordList(BaseModel):
    site: str
    start_date: str
    end_date: str
    total: int = TOTAL_FIELD
    totals: Metrics = TOTALS_FIELD
    keywords: list[KeywordRow]


class SearchTermRow(Metrics):
    search_term: str
    campaign_id: int
    campaign_name: str
    targeting: str
    ad_group_id: int
    keyword_id: int | None = Field(description="The keyword that matched; null for auto targeting")
    keyword_text: str | None
    in_manual_campaign: bool = Field(
        description="The term is already a keyword (an ASIN: a product target) of a manual campaign on the site")
    negated_in_campaign: bool = Field(description="The term is already a negative keyword of this campaign")


class SearchTermList(BaseModel):
    site: str
    start_date: str
    end_date: str
    total: int = TOTAL_FIELD
    totals: Metrics = TOTALS_FIELD
    search_terms: list[SearchTermRow]


class PerformancePoint(Metrics):
    key: str = Field(description="ISO date (day), Monday of the ISO week (week), campaign id or platform")
    label: str


class Performance(BaseModel):
    site: str
    currency: str
    start_date: str
    end_date: str
    group_by: str
    totals: Metrics
    series: list[PerformancePoint]


class Report(BaseModel):
    site: str
    currency: str
    report_type: str
    start_date: str
    end_date: str
    total: int = Field(description="Rows in the full report; `rows` holds at most `limit` of them")
    totals: Metrics
    rows: list[CampaignRow] | list[KeywordRow] | list[SearchTermRow]


class ProductAdRow(BaseModel):
    id: int
    sku: str
    variant_id: int
    campaign_id: int
    campaign_name: str
    ad_group_id: int
    state: str
    on_hand: int | None = Field(description="Units on hand; null when the SKU has no inventory record")
    available: int | None = Field(description="on_hand minus reserved")


class ProductAdList(BaseModel):
    site: str
    total: int = TOTAL_FIELD
    product_ads: list[ProductAdRow]
