"""The issuing authorities of the sandbox's licenses, and which one issues each type.

Every code is a well-formed USCC (state organs 11…, public institutions 12…, people's
organisations 13…, with a right organisation-code and USCC check character) that belongs
to no real body. A type without a default issuer needs ``issuer`` in ``POST /licenses``.
"""

from __future__ import annotations

from integrations.sandbox.license_store import Authority

POLICE = Authority("新乡市公安局", "11410700005493174W", "410700")
TRAFFIC_POLICE = Authority("新乡市公安局交通警察支队", "114107004157410622", "410700")
CIVIL_AFFAIRS = Authority("新乡市牧野区民政局", "11410711005528947Y", "410711")
HOSPITAL = Authority("新乡市中心医院", "1241070041600382XF", "410700")
HUMAN_RESOURCES = Authority("新乡市人力资源和社会保障局", "114107000055371650", "410700")
MEDICAL_INSURANCE = Authority("新乡市医疗保障局", "11410700MB1E276469", "410700")
DISABLED_FEDERATION = Authority("新乡市残疾人联合会", "13410700415880273M", "410700")
VETERANS = Authority("新乡市退役军人事务局", "11410700MB17364231", "410700")
UNIVERSITY = Authority("河南师范大学", "124100004160071344", "410000")
MARKET_REGULATION = Authority("新乡市牧野区市场监督管理局", "11410711MB0D28419G", "410711")
NATURAL_RESOURCES = Authority("新乡市自然资源和规划局", "11410700MB1D593722", "410700")

AUTHORITIES = (
    POLICE,
    TRAFFIC_POLICE,
    CIVIL_AFFAIRS,
    HOSPITAL,
    HUMAN_RESOURCES,
    MEDICAL_INSURANCE,
    DISABLED_FEDERATION,
    VETERANS,
    UNIVERSITY,
    MARKET_REGULATION,
    NATURAL_RESOURCES,
)

DEFAULT_ISSUERS: dict[str, Authority] = {
    "resident_id_card": POLICE,
    "household_register": POLICE,
    "residence_permit": POLICE,
    "migration_permit": POLICE,
    "driving_license": TRAFFIC_POLICE,
    "vehicle_registration": TRAFFIC_POLICE,
    "marriage_certificate": CIVIL_AFFAIRS,
    "divorce_certificate": CIVIL_AFFAIRS,
    "birth_medical_certificate": HOSPITAL,
    "vaccination_certificate": HOSPITAL,
    "death_certificate": HOSPITAL,
    "social_security_card": HUMAN_RESOURCES,
    "retirement_certificate": HUMAN_RESOURCES,
    "medical_insurance_voucher": MEDICAL_INSURANCE,
    "disability_certificate": DISABLED_FEDERATION,
    "discharge_certificate": VETERANS,
    "degree_certificate": UNIVERSITY,
    "business_license": MARKET_REGULATION,
    "food_business_license": MARKET_REGULATION,
    "real_estate_certificate": NATURAL_RESOURCES,
    "real_estate_registration_proof": NATURAL_RESOURCES,
}
