"""What the simulated market is made of: sector profiles, industries, company names, tickers and the ETF list."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SectorProfile:
    """Typical numbers of one GICS sector; each company draws its own around them."""

    name: str
    weight: float  # share of the equity universe
    beta: float
    sector_vol: float  # annualized volatility of the sector factor
    idio_vol: float
    price_to_sales: float
    gross_margin: float
    operating_margin: float
    depreciation: float  # D&A / revenue
    capex: float  # capex / revenue
    price_to_book: float
    debt_to_equity: float
    payer_share: float  # share of dividend payers
    dividend_yield: float
    loss_share: float  # share of money-losing companies
    industries: tuple[tuple[str, tuple[str, ...]], ...]  # (industry, name words)

    @property
    def industry_names(self) -> tuple[str, ...]:
        return tuple(industry for industry, _ in self.industries)


def _profile(
    name: str,
    weight: float,
    numbers: tuple[float, float, float, float, float, float, float, float, float, float, float, float, float],
    *industries: tuple[str, tuple[str, ...]],
) -> SectorProfile:
    beta, sector_vol, idio_vol, ps, gross, operating, depreciation, capex, pb, de, payers, dividend, losers = numbers
    return SectorProfile(
        name=name,
        weight=weight,
        beta=beta,
        sector_vol=sector_vol,
        idio_vol=idio_vol,
        price_to_sales=ps,
        gross_margin=gross,
        operating_margin=operating,
        depreciation=depreciation,
        capex=capex,
        price_to_book=pb,
        debt_to_equity=de,
        payer_share=payers,
        dividend_yield=dividend,
        loss_share=losers,
        industries=industries,
    )


# numbers: beta, sector_vol, idio_vol, P/S, gross m., operating m., D&A, capex, P/B, D/E, payers, yield, losers
SECTOR_PROFILES: tuple[SectorProfile, ...] = (
    _profile(
        "Communication Services",
        0.05,
        (1.0, 0.12, 0.21, 3.0, 0.55, 0.2, 0.08, 0.08, 3.0, 0.8, 0.45, 0.025, 0.05),
        ("Interactive Media & Services", ("Interactive", "Social", "Search", "Digital")),
        ("Entertainment", ("Studios", "Entertainment", "Pictures", "Games")),
        ("Diversified Telecommunication Services", ("Telecom", "Communications", "Networks")),
        ("Media", ("Media", "Broadcasting", "Publishing")),
        ("Wireless Telecommunication Services", ("Wireless", "Mobile", "Cellular")),
    ),
    _profile(
        "Consumer Discretionary",
        0.11,
        (1.15, 0.12, 0.23, 1.6, 0.38, 0.1, 0.04, 0.04, 5.0, 0.9, 0.45, 0.015, 0.05),
        ("Broadline Retail", ("Retail", "Stores", "Marketplace")),
        ("Hotels, Restaurants & Leisure", ("Resorts", "Restaurants", "Hospitality", "Cruises")),
        ("Automobiles", ("Motors", "Automotive", "Vehicles")),
        ("Specialty Retail", ("Outfitters", "Home Centers", "Supply")),
        ("Textiles, Apparel & Luxury Goods", ("Apparel", "Footwear", "Luxury")),
        ("Household Durables", ("Homes", "Furnishings", "Builders")),
    ),
    _profile(
        "Consumer Staples",
        0.075,
        (0.6, 0.09, 0.14, 1.4, 0.35, 0.12, 0.03, 0.03, 5.0, 0.9, 0.85, 0.028, 0.02),
        ("Beverages", ("Beverages", "Bottling", "Brewing")),
        ("Food Products", ("Foods", "Farms", "Mills")),
        ("Household Products", ("Household", "Brands", "Home Products")),
        ("Consumer Staples Distribution & Retail", ("Grocers", "Markets", "Wholesale")),
        ("Personal Care Products", ("Cosmetics", "Personal Care")),
        ("Tobacco", ("Tobacco", "Leaf")),
    ),
    _profile(
        "Energy",
        0.045,
        (1.1, 0.22, 0.22, 1.3, 0.35, 0.14, 0.09, 0.12, 1.8, 0.5, 0.8, 0.035, 0.04),
        ("Oil, Gas & Consumable Fuels", ("Petroleum", "Oil & Gas", "Energy", "Resources", "Midstream")),
        ("Energy Equipment & Services", ("Drilling", "Oilfield Services", "Offshore")),
    ),
    _profile(
        "Financials",
        0.14,
        (1.1, 0.14, 0.17, 2.8, 0.9, 0.3, 0.02, 0.01, 1.3, 1.0, 0.85, 0.025, 0.03),
        ("Banks", ("Bancorp", "Bank", "Bancshares")),
        ("Capital Markets", ("Capital", "Asset Management", "Securities")),
        ("Insurance", ("Insurance", "Assurance", "Re")),
        ("Financial Services", ("Financial", "Payments", "Trust")),
        ("Consumer Finance", ("Credit", "Lending", "Finance")),
    ),
    _profile(
        "Health Care",
        0.12,
        (0.8, 0.1, 0.24, 3.5, 0.65, 0.16, 0.05, 0.04, 4.0, 0.6, 0.45, 0.015, 0.09),
        ("Pharmaceuticals", ("Pharmaceuticals", "Pharma", "Laboratories")),
        ("Biotechnology", ("Therapeutics", "Biosciences", "Genomics", "Bio")),
        ("Health Care Equipment & Supplies", ("Medical", "Surgical", "Devices")),
        ("Health Care Providers & Services", ("Health", "Care", "Clinics")),
        ("Life Sciences Tools & Services", ("Diagnostics", "Scientific", "Instruments")),
    ),
    _profile(
        "Industrials",
        0.15,
        (1.05, 0.1, 0.18, 2.0, 0.32, 0.14, 0.04, 0.04, 4.0, 0.9, 0.75, 0.018, 0.03),
        ("Aerospace & Defense", ("Aerospace", "Defense", "Avionics")),
        ("Machinery", ("Machinery", "Equipment", "Tools")),
        ("Ground Transportation", ("Rail", "Logistics", "Freight", "Trucking")),
        ("Industrial Conglomerates", ("Industries", "Enterprises")),
        ("Electrical Equipment", ("Electric", "Controls", "Power Systems")),
        ("Professional Services", ("Consulting", "Services", "Staffing")),
        ("Building Products", ("Building Products", "Materials")),
    ),
    _profile(
        "Information Technology",
        0.14,
        (1.25, 0.13, 0.24, 5.5, 0.6, 0.22, 0.05, 0.05, 8.0, 0.4, 0.4, 0.01, 0.06),
        ("Software", ("Software", "Cloud", "Data", "Analytics")),
        ("Semiconductors & Semiconductor Equipment", ("Semiconductor", "Micro", "Silicon", "Devices")),
        ("Technology Hardware, Storage & Peripherals", ("Computer", "Storage", "Systems")),
        ("IT Services", ("Technologies", "Digital", "Solutions")),
        ("Communications Equipment", ("Networks", "Photonics", "Optical")),
        ("Electronic Equipment, Instruments & Components", ("Electronics", "Instruments", "Sensors")),
    ),
    _profile(
        "Materials",
        0.055,
        (1.05, 0.14, 0.19, 1.6, 0.3, 0.14, 0.06, 0.07, 2.5, 0.6, 0.75, 0.025, 0.04),
        ("Chemicals", ("Chemical", "Chemicals", "Polymers")),
        ("Metals & Mining", ("Mining", "Steel", "Metals", "Minerals")),
        ("Containers & Packaging", ("Packaging", "Containers")),
        ("Construction Materials", ("Aggregates", "Cement")),
    ),
    _profile(
        "Real Estate",
        0.06,
        (0.85, 0.12, 0.16, 5.0, 0.65, 0.35, 0.25, 0.1, 2.0, 0.9, 0.95, 0.04, 0.03),
        ("Residential REITs", ("Residential", "Apartments", "Communities")),
        ("Industrial REITs", ("Industrial Realty", "Logistics Properties")),
        ("Retail REITs", ("Realty", "Shopping Centers")),
        ("Office REITs", ("Office Properties", "Properties")),
        ("Specialized REITs", ("Towers", "Data Centers", "Storage Trust")),
        ("Real Estate Management & Development", ("Land", "Development")),
    ),
    _profile(
        "Utilities",
        0.06,
        (0.5, 0.1, 0.13, 2.0, 0.45, 0.24, 0.1, 0.18, 1.9, 1.5, 0.95, 0.035, 0.02),
        ("Electric Utilities", ("Electric", "Power", "Light")),
        ("Multi-Utilities", ("Utilities", "Energy Services")),
        ("Gas Utilities", ("Gas", "Natural Gas")),
        ("Water Utilities", ("Water", "Water Works")),
        ("Independent Power and Renewable Electricity Producers", ("Renewables", "Solar", "Wind Power")),
    ),
)

_PREFIXES: tuple[str, ...] = (
    "Acorn", "Adler", "Alder", "Allegro", "Alpine", "Amber", "Anchor", "Apex", "Arbor", "Arcadia", "Argent",
    "Arrow", "Aspen", "Atlas", "Aurora", "Avalon", "Beacon", "Bedrock", "Birch", "Bison", "Bluewater", "Boreal",
    "Brightline", "Cairn", "Calder", "Canyon", "Cardinal", "Cascade", "Cedar", "Centric", "Chalk", "Cinder",
    "Clearwater", "Cobalt", "Copper", "Coral", "Cove", "Crest", "Crown", "Cypress", "Delta", "Driftwood", "Eagle",
    "Ember", "Equinox", "Evergreen", "Falcon", "Fathom", "Fern", "Fjord", "Flint", "Forge", "Foxglove", "Frontier",
    "Galena", "Garnet", "Glacier", "Granite", "Graystone", "Halcyon", "Harbor", "Hawthorn", "Heron", "Highland",
    "Horizon", "Indigo", "Ironwood", "Jasper", "Juniper", "Keystone", "Kestrel", "Lakeshore", "Landmark", "Larch",
    "Laurel", "Lodestar", "Lumen", "Magnolia", "Maple", "Marble", "Mariner", "Meridian", "Mesa", "Midland",
    "Monarch", "Mosaic", "Northgate", "Northwind", "Nova", "Oakmont", "Obsidian", "Onyx", "Orchard", "Orion",
    "Osprey", "Pacifica", "Palisade", "Paragon", "Pinnacle", "Pioneer", "Polaris", "Prairie", "Quarry", "Quill",
    "Radiant", "Raven", "Redwood", "Ridgeline", "Riverbend", "Rockport", "Sable", "Saffron", "Sagebrush",
    "Sequoia", "Shoreline", "Sierra", "Silverline", "Skyline", "Solstice", "Sparrow", "Spruce", "Starling",
    "Sterling", "Stonegate", "Summit", "Sunridge", "Tamarack", "Terra", "Thistle", "Timber", "Topaz", "Trident",
    "Tundra", "Upland", "Valor", "Vanguard", "Verdant", "Vertex", "Vista", "Wayfarer", "Westbrook", "Willow",
    "Windward", "Yarrow", "Zenith", "Zephyr",
)  # fmt: skip

_SUFFIXES: tuple[str, ...] = ("Inc.", "Inc.", "Inc.", "Corp.", "Corp.", "Holdings", "Group", "Co.", "plc", "Ltd.")


@dataclass(frozen=True)
class EtfSpec:
    """One simulated ETF: what it holds, as factor exposures."""

    symbol: str
    name: str
    category: str
    expense_ratio_pct: float
    dividend_yield: float
    beta: float = 0.0
    sector_weights: tuple[tuple[str, float], ...] = ()
    tenor_weights: tuple[tuple[str, float], ...] = ()
    sector: str | None = None
    tracking_vol: float = 0.01
    initial_price: float = 100.0
    initial_assets_usd: float = 5e9


_BROAD = tuple((p.name, round(p.weight * 0.9, 4)) for p in SECTOR_PROFILES)

ETF_SPECS: tuple[EtfSpec, ...] = (
    EtfSpec("SIMX", "Simulated Total Market ETF", "Broad Market", 0.03, 0.014, 1.0, _BROAD, tracking_vol=0.004,
            initial_price=140.0, initial_assets_usd=4e11),
    EtfSpec("SIMG", "Simulated Growth ETF", "Large Growth", 0.08, 0.006, 1.15,
            (("Information Technology", 0.45), ("Communication Services", 0.2), ("Consumer Discretionary", 0.2))),
    EtfSpec("SIMV", "Simulated Value ETF", "Large Value", 0.08, 0.024, 0.9,
            (("Financials", 0.25), ("Energy", 0.12), ("Consumer Staples", 0.15), ("Health Care", 0.15))),
    EtfSpec("SIMT", "Simulated Technology Sector ETF", "Sector", 0.1, 0.008, 1.25, (("Information Technology", 1.0),),
            sector="Information Technology", tracking_vol=0.02),
    EtfSpec("SIMF", "Simulated Financials Sector ETF", "Sector", 0.1, 0.02, 1.1, (("Financials", 1.0),),
            sector="Financials", tracking_vol=0.02),
    EtfSpec("SIME", "Simulated Energy Sector ETF", "Sector", 0.1, 0.032, 1.1, (("Energy", 1.0),),
            sector="Energy", tracking_vol=0.02),
    EtfSpec("SIMH", "Simulated Health Care Sector ETF", "Sector", 0.1, 0.015, 0.8, (("Health Care", 1.0),),
            sector="Health Care", tracking_vol=0.02),
    EtfSpec("SIMU", "Simulated Utilities Sector ETF", "Sector", 0.1, 0.032, 0.5, (("Utilities", 1.0),),
            sector="Utilities", tracking_vol=0.02),
    EtfSpec("SIMB", "Simulated Aggregate Bond ETF", "Intermediate Bond", 0.04, 0.033,
            tenor_weights=(("5y", 0.5), ("10y", 0.5)), tracking_vol=0.01, initial_price=80.0),
    EtfSpec("SIMS", "Simulated Short Treasury ETF", "Short Government", 0.05, 0.03,
            tenor_weights=(("1y", 0.5), ("3y", 0.5)), tracking_vol=0.004, initial_price=60.0),
    EtfSpec("SIML", "Simulated Long Treasury ETF", "Long Government", 0.15, 0.038,
            tenor_weights=(("20y", 0.5), ("30y", 0.5)), tracking_vol=0.01, initial_price=90.0),
)  # fmt: skip


def company_names(
    g: np.random.Generator, sector: np.ndarray, reserved: set[str]
) -> tuple[list[str], list[str], list[str]]:
    """Draw a unique company name, its industry and a unique 2–4 letter ticker derived from the name."""
    names: list[str] = []
    industries: list[str] = []
    tickers: list[str] = []
    used_names: set[str] = set()
    used_tickers = set(reserved)
    for s in sector:
        profile = SECTOR_PROFILES[int(s)]
        while True:
            prefix = _PREFIXES[int(g.integers(len(_PREFIXES)))]
            industry, words = profile.industries[int(g.integers(len(profile.industries)))]
            core = words[int(g.integers(len(words)))]
            suffix = _SUFFIXES[int(g.integers(len(_SUFFIXES)))]
            name = f"{prefix} {core} {suffix}"
            if name not in used_names:
                break
        used_names.add(name)
        ticker = _ticker(g, prefix, core, used_tickers)
        used_tickers.add(ticker)
        names.append(name)
        industries.append(industry)
        tickers.append(ticker)
    return names, industries, tickers


def _ticker(g: np.random.Generator, prefix: str, core: str, used: set[str]) -> str:
    p = "".join(c for c in prefix.upper() if c.isalpha())
    c = "".join(ch for ch in core.upper() if ch.isalpha())
    consonants = p[0] + "".join(ch for ch in p[1:] if ch not in "AEIOU")
    candidates = [p[:3] + c[0], p[:4], p[:3], consonants[:3] + c[0], p[:2] + c[:2], consonants[:4], p[0] + c[:3]]
    order = [candidates[int(i)] for i in g.permutation(len(candidates))]
    if g.random() < 0.08:
        order.insert(0, p[0] + c[0])
    for candidate in order:
        if 2 <= len(candidate) <= 4 and candidate not in used:
            return candidate
    while True:
        letters = g.integers(0, 26, int(g.integers(3, 5)))
        candidate = "".join(chr(65 + int(x)) for x in letters)
        if candidate not in used:
            return candidate
