"""Place and contact data for the sample clinic: suburbs, streets, email domains, and so on.

Suburb postcodes are real and consistent with their state. A clinic draws most patients from
one metropolitan area (its "home" region) and a few from elsewhere in Australia.
"""

from __future__ import annotations

# fmt: off
# region -> (state, IANA time zone, landline area code, ((suburb, postcode), ...))
REGIONS: dict[str, tuple[str, str, str, tuple[tuple[str, str], ...]]] = {
    "sydney": ("NSW", "Australia/Sydney", "02", (
        ("Bondi", "2026"), ("Newtown", "2042"), ("Parramatta", "2150"), ("Chatswood", "2067"),
        ("Manly", "2095"), ("Marrickville", "2204"), ("Blacktown", "2148"),
        ("Liverpool", "2170"), ("Penrith", "2750"), ("Hornsby", "2077"), ("Randwick", "2031"),
        ("Surry Hills", "2010"), ("Strathfield", "2135"), ("Hurstville", "2220"),
        ("Cronulla", "2230"), ("Castle Hill", "2154"), ("Ryde", "2112"), ("Epping", "2121"),
        ("Burwood", "2134"), ("Ashfield", "2131"), ("Bankstown", "2200"),
        ("Cabramatta", "2166"), ("Mosman", "2088"), ("Dee Why", "2099"), ("Glebe", "2037"),
        ("Leichhardt", "2040"), ("Balmain", "2041"), ("Kogarah", "2217"),
        ("Campbelltown", "2560"), ("Coogee", "2034"), ("Auburn", "2144"),
    )),
    "melbourne": ("VIC", "Australia/Melbourne", "03", (
        ("Richmond", "3121"), ("Fitzroy", "3065"), ("Brunswick", "3056"), ("St Kilda", "3182"),
        ("Carlton", "3053"), ("Footscray", "3011"), ("Box Hill", "3128"),
        ("Glen Waverley", "3150"), ("Dandenong", "3175"), ("Frankston", "3199"),
        ("Hawthorn", "3122"), ("Camberwell", "3124"), ("Preston", "3072"), ("Coburg", "3058"),
        ("Werribee", "3030"), ("Sunshine", "3020"), ("Doncaster", "3108"),
        ("Ringwood", "3134"), ("Bentleigh", "3204"), ("Caulfield", "3162"),
        ("Northcote", "3070"), ("Essendon", "3040"), ("Brighton", "3186"),
        ("Moonee Ponds", "3039"), ("Clayton", "3168"), ("Reservoir", "3073"),
    )),
    "brisbane": ("QLD", "Australia/Brisbane", "07", (
        ("Brisbane City", "4000"), ("Fortitude Valley", "4006"), ("New Farm", "4005"),
        ("Paddington", "4064"), ("Toowong", "4066"), ("Indooroopilly", "4068"),
        ("Chermside", "4032"), ("Carindale", "4152"), ("Sunnybank", "4109"),
        ("Springwood", "4127"), ("Logan Central", "4114"), ("Ipswich", "4305"),
        ("Redcliffe", "4020"), ("Kedron", "4031"), ("Ashgrove", "4060"), ("Bulimba", "4171"),
        ("West End", "4101"), ("Mount Gravatt", "4122"), ("Aspley", "4034"),
        ("Wynnum", "4178"), ("Kenmore", "4069"), ("Stafford", "4053"),
    )),
    "perth": ("WA", "Australia/Perth", "08", (
        ("Perth", "6000"), ("Fremantle", "6160"), ("Subiaco", "6008"), ("Joondalup", "6027"),
        ("Scarborough", "6019"), ("Cottesloe", "6011"), ("Midland", "6056"),
        ("Rockingham", "6168"), ("Victoria Park", "6100"), ("Morley", "6062"),
        ("Cannington", "6107"), ("Claremont", "6010"), ("Leederville", "6007"),
    )),
    "adelaide": ("SA", "Australia/Adelaide", "08", (
        ("Adelaide", "5000"), ("Glenelg", "5045"), ("Norwood", "5067"), ("Unley", "5061"),
        ("Prospect", "5082"), ("Mawson Lakes", "5095"), ("Salisbury", "5108"),
        ("Marion", "5043"), ("Port Adelaide", "5015"), ("Modbury", "5092"),
    )),
    "other_nsw": ("NSW", "Australia/Sydney", "02", (
        ("Wollongong", "2500"), ("Newcastle", "2300"), ("Gosford", "2250"), ("Orange", "2800"),
        ("Wagga Wagga", "2650"), ("Byron Bay", "2481"), ("Port Macquarie", "2444"),
    )),
    "other_vic": ("VIC", "Australia/Melbourne", "03", (
        ("Geelong", "3220"), ("Ballarat", "3350"), ("Bendigo", "3550"), ("Mildura", "3500"),
    )),
    "other_qld": ("QLD", "Australia/Brisbane", "07", (
        ("Southport", "4215"), ("Surfers Paradise", "4217"), ("Toowoomba", "4350"),
        ("Cairns", "4870"), ("Townsville", "4810"), ("Maroochydore", "4558"),
        ("Bundaberg", "4670"),
    )),
    "act": ("ACT", "Australia/Sydney", "02", (
        ("Canberra", "2601"), ("Belconnen", "2617"), ("Braddon", "2612"), ("Kingston", "2604"),
        ("Woden", "2606"), ("Tuggeranong", "2900"), ("Gungahlin", "2912"),
    )),
    "tas": ("TAS", "Australia/Hobart", "03", (
        ("Hobart", "7000"), ("Sandy Bay", "7005"), ("Launceston", "7250"),
        ("Glenorchy", "7010"), ("Devonport", "7310"),
    )),
    "nt": ("NT", "Australia/Darwin", "08", (
        ("Darwin", "0800"), ("Palmerston", "0830"), ("Casuarina", "0810"),
        ("Alice Springs", "0870"),
    )),
}
HOME_REGIONS: tuple[str, ...] = ("sydney", "melbourne", "brisbane", "perth", "adelaide")

STREET_NAMES: tuple[str, ...] = (
    "George", "King", "Queen", "Victoria", "Elizabeth", "Church", "High", "Main", "Station",
    "Park", "Railway", "William", "Albert", "Edward", "Bridge", "Smith", "Johnston", "Oxford",
    "Wattle", "Banksia", "Acacia", "Jacaranda", "Grevillea", "Waratah", "Boronia", "Kurrajong",
    "Melaleuca", "Bottlebrush", "Ironbark", "Coolabah", "Warrigal", "Burwood", "Canterbury",
    "Darling", "Murray", "Hume", "Flinders", "Sturt", "Macquarie", "Phillip", "Hunter",
    "Bligh", "Lachlan", "Cook", "Banks", "Mitchell", "Lawson", "Wentworth", "Blaxland",
    "Anzac", "Gallipoli", "Kokoda", "Beach", "Ocean", "Bay", "Hill", "Valley", "Ridge", "Forest",
    "Orchard", "Mill", "Mary", "Alice", "Ann", "Charlotte", "Grey", "St Georges",
    "O'Connell", "D'Arcy", "Pitt", "Castlereagh", "Sussex", "Kent", "Clarence", "Harris",
)
# (full, abbreviation, weight)
STREET_TYPES: tuple[tuple[str, str, float], ...] = (
    ("Street", "St", 0.42), ("Road", "Rd", 0.18), ("Avenue", "Ave", 0.1),
    ("Crescent", "Cres", 0.05), ("Parade", "Pde", 0.03), ("Drive", "Dr", 0.06),
    ("Court", "Ct", 0.04), ("Place", "Pl", 0.04), ("Lane", "Ln", 0.02), ("Way", "Way", 0.02),
    ("Close", "Cl", 0.02), ("Terrace", "Tce", 0.01), ("Highway", "Hwy", 0.01),
)

# (domain, weight); gmail-style dot and +tag rules apply to gmail.com only.
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.42), ("hotmail.com", 0.1), ("outlook.com", 0.07), ("bigpond.com", 0.07),
    ("yahoo.com.au", 0.05), ("icloud.com", 0.08), ("live.com.au", 0.03),
    ("optusnet.com.au", 0.03), ("iinet.net.au", 0.02), ("tpg.com.au", 0.02),
    ("hotmail.com.au", 0.02), ("outlook.com.au", 0.02), ("me.com", 0.01),
    ("bigpond.net.au", 0.02), ("internode.on.net", 0.01), ("protonmail.com", 0.01),
    ("qq.com", 0.01), ("yahoo.com", 0.01),
)
EMAIL_TAGS: tuple[str, ...] = ("physio", "clinic", "health", "bookings", "appts", "medical")

OCCUPATIONS: tuple[str, ...] = (
    "Teacher", "Nurse", "Retired", "Student", "Accountant", "Software engineer", "Electrician",
    "Plumber", "Carpenter", "Office manager", "Sales assistant", "Chef", "Lawyer",
    "Project manager", "Truck driver", "Police officer", "Paramedic", "Cleaner", "Builder",
    "Graphic designer", "Real estate agent", "Hairdresser", "Barista", "Public servant",
    "Self-employed", "Farmer", "Mechanic", "Pharmacist", "Engineer", "Homemaker", "Tradie",
    "Personal trainer", "Retail manager", "Receptionist", "Consultant", "Architect",
)
REFERRAL_SOURCES: tuple[str, ...] = (
    "Google", "GP referral", "Friend or family", "Facebook", "Instagram", "Walk-in",
    "Existing patient", "Workcover", "Sports club", "Letterbox drop", "Healthengine",
)
PATIENT_NOTES: tuple[str, ...] = (
    "Prefers morning appointments.", "Hard of hearing: speak clearly.",
    "Workcover claim: send invoices to insurer.", "Pays by card on the day.",
    "Needs interpreter (Mandarin).", "Needs interpreter (Vietnamese).",
    "Allergic to latex.", "Mum brings to appointments.", "Referred by Dr Patel.",
    "Pre-op assessment requested.", "DVA gold card holder.", "Uses wheelchair: ground floor room.",
)
APPOINTMENT_NOTES: tuple[str, ...] = (
    "Running late often: book last slot.", "Prefers female practitioner.",
    "Call on arrival, waits in car.", "Book double appointment.",
)
INVOICE_PAYERS: tuple[str, ...] = (
    "Allianz Workers Compensation", "icare NSW", "WorkSafe Victoria", "Suncorp Insurance",
    "Department of Veterans' Affairs", "NDIS plan manager",
)
EMERGENCY_RELATIONS: tuple[str, ...] = ("wife", "husband", "partner", "mum", "dad", "son",
                                        "daughter", "friend", "sister", "brother")

PRONOUNS: dict[str, dict[str, str]] = {
    "he": {"accusative": "him", "nominative": "he", "predicative_possessive": "his",
           "pronominal_possessive": "his", "reflexive": "himself"},
    "she": {"accusative": "her", "nominative": "she", "predicative_possessive": "hers",
            "pronominal_possessive": "her", "reflexive": "herself"},
    "they": {"accusative": "them", "nominative": "they", "predicative_possessive": "theirs",
             "pronominal_possessive": "their", "reflexive": "themself"},
}

# QWERTY neighbours for one-key typos.
KEYBOARD_NEIGHBOURS: dict[str, str] = {
    "a": "sqwz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc",
    "g": "ftyhbv", "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop",
    "m": "njk", "n": "bhjm", "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz",
    "t": "rfgy", "u": "yhji", "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}
# fmt: on
