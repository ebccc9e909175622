"""Fixed tables the sandbox data generator draws from: names, places, fees and radio profiles per service.

The values are plausible, not official: the fee amounts imitate a state fee schedule, the radio profiles the
usual bands, channel rasters and emission designators of each radiocommunication service.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from adapters.billing.records import PriceListItemRecord

SERVICE_TYPES = (
    "LAND_MOBILE",
    "FIXED",
    "BROADCASTING",
    "SATELLITE",
    "MARITIME",
    "AERONAUTICAL",
    "AMATEUR",
)

# Prefix of the permit number per service (Latvian abbreviations of the service names).
PERMIT_PREFIX = {
    "LAND_MOBILE": "ZM",
    "FIXED": "FL",
    "BROADCASTING": "AP",
    "SATELLITE": "SS",
    "MARITIME": "JR",
    "AERONAUTICAL": "AV",
    "AMATEUR": "AM",
}

SERVICE_NAME_LV = {
    "LAND_MOBILE": "zemes mobilais dienests",
    "FIXED": "fiksētais dienests",
    "BROADCASTING": "apraides dienests",
    "SATELLITE": "fiksētais satelītu dienests",
    "MARITIME": "jūras mobilais dienests",
    "AERONAUTICAL": "aeronavigācijas mobilais dienests",
    "AMATEUR": "amatieru dienests",
}

VAT_EXEMPTION_REASON = "Valsts nodeva – nav PVN apliekams darījums"


def _item(code: str, description: str, unit: str, price: str, vat: str) -> PriceListItemRecord:
    return PriceListItemRecord(code, description, unit, Decimal(price), "EUR", Decimal(vat))


PRICE_LIST: tuple[PriceListItemRecord, ...] = (
    _item("AT-IZS", "Radioiekārtas lietošanas atļaujas izsniegšana", "atļauja", "35.57", "21"),
    _item("AT-GROZ", "Grozījumi radioiekārtas lietošanas atļaujā", "atļauja", "14.23", "21"),
    _item("EMS-NOV", "Elektromagnētiskās savietojamības izvērtēšana", "frekvence", "56.91", "21"),
    _item("MON-H", "Radiomonitoringa mērījumi pēc pasūtījuma", "stunda", "48.00", "21"),
    _item(
        "SP-ZM", "Spektra lietošanas valsts nodeva: zemes mobilā radiostacija", "stacija gadā", "28.46", "0"
    ),
    _item("SP-FX", "Spektra lietošanas valsts nodeva: fiksētā radiolīnija", "līnija gadā", "142.29", "0"),
    _item(
        "SP-BC", "Spektra lietošanas valsts nodeva: FM apraides raidītājs", "raidītājs gadā", "284.57", "0"
    ),
    _item(
        "SP-SAT",
        "Spektra lietošanas valsts nodeva: satelītsakaru zemes stacija",
        "stacija gadā",
        "213.43",
        "0",
    ),
    _item("SP-MS", "Spektra lietošanas valsts nodeva: kuģa radiostacija", "stacija gadā", "21.34", "0"),
    _item(
        "SP-AER",
        "Spektra lietošanas valsts nodeva: aeronavigācijas radiostacija",
        "stacija gadā",
        "35.57",
        "0",
    ),
    _item("SP-AM", "Amatieru radiostacijas valsts nodeva", "stacija gadā", "7.11", "0"),
)

PRICE_BY_CODE = {item.code: item for item in PRICE_LIST}

ANNUAL_FEE_CODE = {
    "LAND_MOBILE": "SP-ZM",
    "FIXED": "SP-FX",
    "BROADCASTING": "SP-BC",
    "SATELLITE": "SP-SAT",
    "MARITIME": "SP-MS",
    "AERONAUTICAL": "SP-AER",
    "AMATEUR": "SP-AM",
}


@dataclass(frozen=True, slots=True)
class RadioProfile:
    """How one kind of station of a service looks: ITU class, band, raster, emission, power and antenna."""

    station_class: str
    low_mhz: str
    high_mhz: str
    step_mhz: str
    bandwidth_khz: str
    emission: str
    power_w: tuple[float, float] | None  # range of transmitter power, or None when ERP is given instead
    erp_dbw: tuple[float, float] | None
    polarizations: tuple[str, ...]
    height_m: tuple[float, float]
    fixed_site: bool  # False: a mobile station without coordinates
    directional: bool
    name_lv: str


_P = RadioProfile
# fmt: off
PROFILES: dict[str, tuple[RadioProfile, ...]] = {
    "LAND_MOBILE": (
        _P("FB", "146", "174", "0.0125", "12.5", "11K0F3E", (10, 50), None,
           ("V",), (15, 60), True, False, "Bāzes stacija"),
        _P("FB", "410", "470", "0.0125", "12.5", "7K60FXE", (10, 40), None,
           ("V",), (20, 70), True, False, "DMR bāzes stacija"),
        _P("ML", "146", "174", "0.0125", "12.5", "11K0F3E", (5, 25), None,
           ("V",), (1.5, 3), False, False, "Mobilā stacija"),
    ),
    "FIXED": (
        _P("FX", "12751", "13243", "3.5", "28000", "28M0G7W", (0.05, 0.5), None,
           ("H", "V"), (20, 80), True, True, "Radiolīnija"),
        _P("FX", "17727", "19663", "7", "55000", "56M0G7W", (0.05, 0.3), None,
           ("H", "V"), (15, 60), True, True, "Radiolīnija"),
        _P("FX", "37058", "39438", "3.5", "14000", "14M0G7W", (0.02, 0.2), None,
           ("H", "V"), (10, 50), True, True, "Radiolīnija"),
        _P("FX", "7128", "8496", "7", "7000", "7M00G7W", (0.1, 1), None,
           ("H", "V"), (30, 90), True, True, "Radiolīnija"),
    ),
    "BROADCASTING": (
        _P("BC", "87.5", "108", "0.1", "180", "180KF8EHF", None, (20, 47),
           ("H", "V", "M"), (50, 250), True, False, "FM raidītājs"),
    ),
    "SATELLITE": (
        _P("TC", "14000", "14500", "0.5", "36000", "36M0G7W", (2, 20), None,
           ("H", "V"), (3, 15), True, True, "Satelītsakaru zemes stacija"),
    ),
    "MARITIME": (
        _P("MS", "156.025", "157.425", "0.025", "25", "16K0F3E", (1, 25), None,
           ("V",), (5, 30), False, False, "Kuģa radiostacija"),
        _P("FC", "160.625", "162.025", "0.025", "25", "16K0F3E", (10, 50), None,
           ("V",), (20, 60), True, False, "Krasta stacija"),
    ),
    "AERONAUTICAL": (
        _P("FA", "118", "136.975", "0.025", "8.33", "6K00A3E", (10, 50), None,
           ("V",), (10, 30), True, False, "Aeronavigācijas stacija"),
    ),
    "AMATEUR": (
        _P("AT", "144", "146", "0.0125", "12.5", "11K0F3E", (10, 100), None,
           ("V",), (8, 25), True, False, "Amatieru stacija"),
        _P("AT", "430", "440", "0.0125", "12.5", "11K0F3E", (5, 50), None,
           ("V",), (8, 25), True, False, "Amatieru stacija"),
        _P("AT", "14.0", "14.35", "0.001", "2.7", "2K70J3E", (100, 400), None,
           ("H",), (10, 25), True, False, "Amatieru stacija (ĪV)"),
    ),
}
# fmt: on

# (name, postal code, latitude, longitude)
CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("Rīga", "LV-1050", 56.9496, 24.1052),
    ("Daugavpils", "LV-5401", 55.8747, 26.5362),
    ("Liepāja", "LV-3401", 56.5047, 21.0108),
    ("Jelgava", "LV-3001", 56.6511, 23.7214),
    ("Jūrmala", "LV-2015", 56.9680, 23.7704),
    ("Ventspils", "LV-3601", 57.3894, 21.5606),
    ("Rēzekne", "LV-4601", 56.5099, 27.3331),
    ("Valmiera", "LV-4201", 57.5385, 25.4264),
    ("Jēkabpils", "LV-5201", 56.4990, 25.8573),
    ("Ogre", "LV-5001", 56.8162, 24.6140),
    ("Tukums", "LV-3101", 56.9669, 23.1553),
    ("Cēsis", "LV-4101", 57.3119, 25.2706),
    ("Kuldīga", "LV-3301", 56.9677, 21.9681),
    ("Sigulda", "LV-2150", 57.1537, 24.8532),
    ("Talsi", "LV-3201", 57.2446, 22.5890),
    ("Saldus", "LV-3801", 56.6637, 22.4881),
    ("Madona", "LV-4801", 56.8538, 26.2170),
    ("Bauska", "LV-3901", 56.4079, 24.1944),
    ("Alūksne", "LV-4301", 57.4239, 27.0503),
    ("Gulbene", "LV-4401", 57.1775, 26.7527),
    ("Limbaži", "LV-4001", 57.5133, 24.7136),
    ("Dobele", "LV-3701", 56.6250, 23.2789),
    ("Krāslava", "LV-5601", 55.8951, 27.1682),
    ("Ludza", "LV-5701", 56.5467, 27.7190),
    ("Aizkraukle", "LV-5101", 56.6048, 25.2551),
    ("Salacgrīva", "LV-4033", 57.7531, 24.3586),
)

# fmt: off
STREETS = (
    "Brīvības iela", "Lāčplēša iela", "Rīgas iela", "Skolas iela", "Dzirnavu iela",
    "Krišjāņa Barona iela", "Elizabetes iela", "Jūras iela", "Ostas iela", "Pils iela", "Lielā iela",
    "Kalna iela", "Meža iela", "Dārza iela", "Stacijas iela", "Baznīcas iela", "Avotu iela",
    "Raiņa iela", "Zemnieku iela", "Ganību iela",
)

MALE_NAMES = (
    "Jānis", "Andris", "Pēteris", "Mārtiņš", "Edgars", "Kārlis", "Aivars", "Raimonds", "Normunds",
    "Gints", "Uldis", "Artūrs", "Rihards", "Oskars", "Roberts",
)
FEMALE_NAMES = (
    "Anna", "Līga", "Inese", "Ilze", "Kristīne", "Dace", "Sandra", "Laura", "Elīna", "Zane", "Baiba",
    "Agnese", "Ieva", "Marta", "Santa",
)
SURNAMES = (
    ("Bērziņš", "Bērziņa"), ("Kalniņš", "Kalniņa"), ("Ozoliņš", "Ozoliņa"), ("Jansons", "Jansone"),
    ("Ozols", "Ozola"), ("Liepiņš", "Liepiņa"), ("Krūmiņš", "Krūmiņa"), ("Balodis", "Balode"),
    ("Eglītis", "Eglīte"), ("Zariņš", "Zariņa"), ("Pētersons", "Pētersone"), ("Vītols", "Vītola"),
    ("Kļaviņš", "Kļaviņa"), ("Kārkliņš", "Kārkliņa"), ("Vanags", "Vanaga"), ("Lācis", "Lāce"),
    ("Siliņš", "Siliņa"), ("Grīnbergs", "Grīnberga"), ("Zvirbulis", "Zvirbule"), ("Kalējs", "Kalēja"),
)

COMPANY_FIRST = (
    "Daugavas", "Vidzemes", "Kurzemes", "Latgales", "Zemgales", "Gaujas", "Ventas", "Ziemeļu",
    "Austrumu", "Jūras", "Meža", "Lielupes", "Baltijas", "Dzintara",
)
COMPANY_SECOND = (
    "Sakari", "Radio", "Tīkli", "Telekom", "Loģistika", "Transports", "Enerģija", "Apsardze",
    "Taksometri", "Būve", "Mežsaimniecība", "Osta", "Aviācija", "Sistēmas", "Flote",
)
# fmt: on

APPLICATION_KINDS = ("NEW_PERMIT", "AMEND_PERMIT", "RENEW_PERMIT", "CANCEL_PERMIT", "SERVICE_REGISTRATION")
# Every kind the registry accepts; the seed data draws from the ones above, which have sample texts.
ACCEPTED_APPLICATION_KINDS = (*APPLICATION_KINDS, "SERVICE_CANCELLATION", "FREE_FORM")

APPLICATION_SUBJECTS = {
    "NEW_PERMIT": "Jaunas radioiekārtas lietošanas atļaujas pieprasījums",
    "AMEND_PERMIT": "Grozījumu izdarīšana atļaujā",
    "RENEW_PERMIT": "Atļaujas derīguma termiņa pagarināšana",
    "CANCEL_PERMIT": "Atļaujas anulēšana pēc turētāja lūguma",
    "SERVICE_REGISTRATION": "Radiomonitoringa mērījumu pasūtījums",
}

APPLICATION_BODIES = {
    "NEW_PERMIT": "Lūdzam izsniegt atļauju jaunas radiostacijas lietošanai. Tehniskie parametri pievienoti.",
    "AMEND_PERMIT": "Lūdzam mainīt antenas augstumu un azimutu atbilstoši pievienotajai shēmai.",
    "RENEW_PERMIT": "Lūdzam pagarināt atļaujas derīguma termiņu uz nākamajiem pieciem gadiem.",
    "CANCEL_PERMIT": "Radioiekārta vairs netiek izmantota, lūdzam atļauju anulēt.",
    "SERVICE_REGISTRATION": "Lūdzam veikt traucējumu mērījumus mūsu bāzes stacijas apkārtnē.",
}

SHIP_NAMES = ("Kurzeme", "Daugava", "Gauja", "Venta", "Abava", "Irbe", "Salaca", "Rēzija", "Lielupe", "Ogre")

LATVIA_LAT = (55.67, 58.09)
LATVIA_LON = (20.97, 28.24)
