"""Name data for the sample clinic: Australian first names and surnames, nicknames, scripts.

Lists are ordered from most to least common; the generator turns rank into a Zipf-like
weight, so the order matters more than any exact count. Surnames also get a synthetic long
tail (see :func:`synthetic_surname`), so a large clinic has thousands of distinct surnames, as
a real one does.
"""

from __future__ import annotations

import random

# fmt: off
# Cultural groups: (key, share of patients). The key selects name lists below.
GROUPS: tuple[tuple[str, float], ...] = (
    ("anglo", 0.66),
    ("chinese", 0.06),
    ("indian", 0.05),
    ("italian", 0.04),
    ("vietnamese", 0.035),
    ("greek", 0.03),
    ("european", 0.05),
    ("arabic", 0.03),
    ("filipino", 0.015),
    ("korean", 0.01),
    ("spanish", 0.02),
)

# Groups whose members often use an English first name.
ENGLISH_FIRST_NAME_SHARE: dict[str, float] = {
    "chinese": 0.45, "vietnamese": 0.35, "korean": 0.35, "filipino": 0.6, "indian": 0.1,
    "greek": 0.25, "italian": 0.25, "european": 0.35, "arabic": 0.1, "spanish": 0.2,
}

SURNAMES: dict[str, tuple[str, ...]] = {
    "anglo": (
        "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin",
        "Anderson", "Thompson", "Thomas", "Walker", "Harris", "Lee", "Ryan", "Robinson", "Kelly",
        "King", "Davis", "Wright", "Evans", "Roberts", "Green", "Hall", "Wood", "Jackson",
        "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips", "Mitchell", "Campbell",
        "Murphy", "O'Brien", "Hughes", "Edwards", "Turner", "Baker", "Young", "Scott", "Hill",
        "Moore", "Cooper", "Ward", "Morris", "Clark", "Allen", "Stewart", "Bell", "Murray",
        "Kennedy", "Watson", "Cook", "Morgan", "Bennett", "Parker", "McDonald", "Richardson",
        "Graham", "Collins", "Russell", "Harrison", "Stevens", "Simpson", "Hunt", "Mills",
        "Marshall", "Price", "Gray", "Ross", "Wallace", "Hamilton", "Reid", "Fraser", "Carter",
        "O'Connor", "Sullivan", "Quinn", "Walsh", "Byrne", "Doyle", "Gallagher", "Fitzgerald",
        "O'Neill", "McCarthy", "Burke", "Dunn", "Lynch", "Brennan", "Nolan", "MacKenzie",
        "McLeod", "Cameron", "Ferguson", "Henderson", "Duncan", "Hayes", "Fisher", "Shaw",
        "Holmes", "Lloyd", "Ellis", "Knight", "Barnes", "Jenkins", "Chapman", "Webb", "Rose",
        "Payne", "Dawson", "Lane", "Fletcher", "Porter", "Spencer", "Harvey", "Day", "Newton",
        "Black", "Hart", "Page", "Armstrong", "Ahern", "Blackwood", "Beaumont", "Ashworth",
        "Featherstonehaugh", "Cholmondeley", "D'Arcy", "O'Shaughnessy", "McGillicuddy",
        "St John", "Bowes-Lyon", "Lloyd-Webber", "Fox-Pitt", "Vaughan-Williams",
    ),
    "chinese": (
        "Li", "Wang", "Zhang", "Chen", "Liu", "Huang", "Lin", "Yang", "Wu", "Zhou", "Zhao",
        "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Luo", "Zheng", "Wong", "Chan", "Cheung",
        "Leung", "Lau", "Ng", "Ho", "Tang", "Tan", "Lim", "Goh", "Yip", "Kwok",
    ),
    "vietnamese": (
        "Nguyen", "Tran", "Le", "Pham", "Huynh", "Hoang", "Phan", "Vu", "Vo", "Dang", "Bui",
        "Do", "Ngo", "Duong", "Ly", "Truong", "Nguyễn", "Trần", "Lê",
    ),
    "indian": (
        "Singh", "Kaur", "Patel", "Sharma", "Kumar", "Shah", "Gupta", "Reddy", "Rao", "Nair",
        "Iyer", "Pillai", "Mehta", "Desai", "Joshi", "Verma", "Agarwal", "Chopra", "Malhotra",
        "Bhatt", "Menon", "Krishnan", "Subramanian", "Venkataraman", "Chaudhary",
    ),
    "italian": (
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini",
        "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Caruso", "Di Stefano",
        "D'Angelo", "Lo Presti", "Palmieri",
    ),
    "greek": (
        "Papadopoulos", "Nikolaidis", "Georgiou", "Papadakis", "Konstantinidis", "Dimitriou",
        "Ioannou", "Vlahos", "Karagiannis", "Christodoulou", "Pappas", "Stavrou", "Antoniou",
        "Economou", "Kyriakou", "Makris", "Athanasiou", "Petropoulos", "Theodorou",
    ),
    "european": (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Kowalski", "Nowak", "Wiśniewski",
        "Wójcik", "Kowalczyk", "Przybylski", "Szczepański", "Van der Berg", "De Jong", "Jansen",
        "Bakker", "Novak", "Horvat", "Kovačević", "Petrović", "Jovanović", "Nikolić",
        "Andersson", "Johansson", "Larsen", "Nielsen", "Søndergaard", "Kuznetsov", "Ivanov",
        "Dubois", "Lefèvre", "Moreau", "Fournier", "O'Donoghue",
    ),
    "arabic": (
        "Haddad", "Khoury", "Nasser", "Saleh", "Hassan", "Ibrahim", "Mansour", "Abdallah",
        "El-Masri", "Aziz", "Farah", "Rahman", "Al-Hassan", "Youssef", "Karam", "Daher",
    ),
    "filipino": (
        "Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Ramos", "Aquino",
        "Dela Cruz", "Villanueva", "Castillo", "Fernandez",
    ),
    "korean": ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim"),
    "spanish": (
        "García", "Rodríguez", "Martínez", "López", "González", "Hernández", "Pérez", "Sánchez",
        "Ramírez", "Núñez", "Gómez", "Díaz", "Silva", "Oliveira", "Souza",
    ),
}

# Anglo first names by birth era: (born before 1965, 1965-1989, 1990 on).
ANGLO_MALE: tuple[tuple[str, ...], ...] = (
    (
        "John", "Peter", "Robert", "David", "Michael", "William", "James", "Ronald", "Kenneth",
        "Barry", "Graham", "Raymond", "Geoffrey", "Brian", "Keith", "Gary", "Colin", "Allan",
        "Ian", "Kevin", "Terence", "Donald", "Douglas", "Leonard", "Frederick", "Gregory",
        "Stephen", "Richard", "Anthony", "Thomas", "Edward", "Patrick", "Francis", "Lawrence",
        "Gerald", "Phillip", "Neville", "Trevor", "Malcolm", "Noel", "Murray", "Wayne",
    ),
    (
        "Michael", "David", "Matthew", "Andrew", "Daniel", "Christopher", "Benjamin", "James",
        "Mark", "Paul", "Jason", "Scott", "Nathan", "Luke", "Adam", "Anthony", "Timothy",
        "Stephen", "Steven", "Joshua", "Craig", "Shane", "Glenn", "Darren", "Brett", "Robert",
        "Richard", "Jonathan", "Nicholas", "Simon", "Peter", "Justin", "Bradley", "Troy",
        "Dean", "Aaron", "Samuel", "Thomas", "William", "Patrick", "Gregory", "Joseph",
    ),
    (
        "Jack", "Oliver", "William", "Noah", "Thomas", "James", "Lachlan", "Ethan", "Lucas",
        "Liam", "Cooper", "Henry", "Charlie", "Samuel", "Max", "Harrison", "Joshua", "Jacob",
        "Alexander", "Leo", "Isaac", "Mason", "Archie", "Hudson", "Harry", "Riley", "Benjamin",
        "Jayden", "Zachary", "Daniel", "Matthew", "Nicholas", "Ryan", "Tyler", "Dylan",
        "Connor", "Mitchell", "Jordan", "Logan", "Hunter", "Flynn", "Angus", "Xavier", "Finn",
        "Oscar", "Hamish", "Jaxon", "Ollie", "Levi", "Elijah", "Theodore", "Sebastian",
    ),
)
ANGLO_FEMALE: tuple[tuple[str, ...], ...] = (
    (
        "Margaret", "Patricia", "Susan", "Elizabeth", "Judith", "Barbara", "Dorothy", "Jean",
        "Helen", "Mary", "Christine", "Kathleen", "Joan", "Robyn", "Lynette", "Pamela", "Gail",
        "Beverley", "Carol", "Sandra", "Janet", "Dianne", "Wendy", "Jennifer", "Maureen",
        "Shirley", "Valerie", "Joy", "Heather", "Gloria", "Rosemary", "Deborah", "Denise",
        "Anne", "Marie", "Noelene", "Glenys", "Josephine",
    ),
    (
        "Sarah", "Jessica", "Rebecca", "Michelle", "Nicole", "Lisa", "Kylie", "Melissa",
        "Amanda", "Emma", "Kate", "Katherine", "Catherine", "Jennifer", "Rachel", "Natalie",
        "Belinda", "Tracey", "Karen", "Sharon", "Leanne", "Danielle", "Kristy", "Samantha",
        "Elizabeth", "Stephanie", "Alison", "Joanne", "Angela", "Kimberley", "Renée", "Amy",
        "Megan", "Laura", "Fiona", "Jacqueline", "Deborah", "Vanessa", "Naomi", "Bronwyn",
    ),
    (
        "Charlotte", "Olivia", "Ava", "Mia", "Amelia", "Isla", "Grace", "Chloe", "Emily",
        "Sophie", "Ruby", "Ella", "Zoe", "Lily", "Matilda", "Harper", "Sienna", "Isabella",
        "Georgia", "Hannah", "Jessica", "Jasmine", "Madison", "Lucy", "Sophia", "Evie",
        "Willow", "Zara", "Abigail", "Alexandra", "Victoria", "Madeleine", "Eleanor",
        "Gabrielle", "Stephanie", "Samantha", "Rebecca", "Emma", "Maddison", "Tahlia", "Chloé",
        "Zoë", "Mackenzie", "Indiana", "Scarlett", "Aaliyah", "Ivy", "Frankie", "Kayla",
    ),
)

GROUP_FIRST: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # group: (male, female)
    "chinese": (
        ("Wei", "Jun", "Hao", "Jie", "Ming", "Lei", "Tao", "Yong", "Chao", "Bo", "Kai", "Yi"),
        ("Mei", "Fang", "Li", "Jing", "Xiu", "Yan", "Hui", "Ling", "Na", "Min", "Xia", "Ying"),
    ),
    "vietnamese": (
        ("Minh", "Duc", "Huy", "Khoa", "Long", "Tuan", "Thanh", "Quang", "Hieu", "Phuc"),
        ("Linh", "Thi", "Huong", "Lan", "Mai", "Ngoc", "Trang", "Thao", "Hoa", "Anh"),
    ),
    "indian": (
        ("Arjun", "Rahul", "Amit", "Vikram", "Rohan", "Sanjay", "Aarav", "Harpreet",
         "Gurpreet", "Rajesh", "Suresh", "Anand", "Karan", "Siddharth"),
        ("Priya", "Anjali", "Deepa", "Sunita", "Kavya", "Aishwarya", "Neha", "Pooja",
         "Manpreet", "Simran", "Lakshmi", "Divya", "Ananya"),
    ),
    "italian": (
        ("Giuseppe", "Antonio", "Giovanni", "Marco", "Luca", "Salvatore", "Francesco",
         "Domenico", "Vincenzo", "Alessandro", "Matteo"),
        ("Maria", "Giulia", "Francesca", "Rosa", "Anna", "Giuseppina", "Lucia", "Chiara",
         "Carmela", "Alessia", "Sofia"),
    ),
    "greek": (
        ("Georgios", "Nikolaos", "Konstantinos", "Dimitrios", "Ioannis", "Christos", "Nick",
         "Con", "Peter", "Spiros", "Theo"),
        ("Maria", "Eleni", "Katerina", "Sophia", "Georgia", "Despina", "Vasiliki", "Angeliki",
         "Athena", "Stella"),
    ),
    "european": (
        ("Łukasz", "Piotr", "Tomasz", "Jürgen", "Klaus", "Stefan", "Jan", "Pieter", "Luka",
         "Marko", "Björn", "Lars", "Søren", "Dmitri", "Ivan", "Noël", "Mathieu"),
        ("Agnieszka", "Katarzyna", "Anna", "Ingrid", "Greta", "Ana", "Ivana", "Sanne",
         "Astrid", "Olga", "Natalia", "Anaïs", "Léa", "Inès", "Hélène"),
    ),
    "arabic": (
        ("Mohammed", "Ahmed", "Ali", "Omar", "Youssef", "Hassan", "Khaled", "Tarek", "Karim",
         "Bilal", "Ibrahim", "Fadi"),
        ("Fatima", "Aisha", "Layla", "Mariam", "Nour", "Rania", "Yasmin", "Zeinab", "Hala",
         "Leila", "Amira"),
    ),
    "filipino": (
        ("Jose", "Mark", "Paolo", "Carlo", "Miguel", "Rafael", "Angelo"),
        ("Maria", "Angelica", "Kristine", "Joy", "Marites", "Princess", "Camille"),
    ),
    "korean": (
        ("Min-jun", "Ji-hoon", "Seo-jun", "Hyun-woo", "Jae-won", "Dong-hyun"),
        ("Ji-woo", "Seo-yeon", "Min-ji", "Soo-ah", "Ha-eun", "Eun-ji"),
    ),
    "spanish": (
        ("José", "Carlos", "Luis", "Javier", "Diego", "Alejandro", "Mateo", "Andrés", "Joaquín"),
        ("María", "Lucía", "Camila", "Valentina", "Sofía", "Isabel", "Carmen", "Ximena"),
    ),
}

# Non-Latin spellings used by a few patients who typed their own details.
CHINESE_SCRIPT: dict[str, str] = {
    "Li": "李", "Wang": "王", "Zhang": "张", "Chen": "陈", "Liu": "刘", "Huang": "黄",
    "Lin": "林", "Yang": "杨", "Wu": "吴", "Zhou": "周", "Zhao": "赵", "Xu": "徐", "Sun": "孙",
    "Ma": "马", "Zhu": "朱", "Hu": "胡", "Guo": "郭", "He": "何", "Luo": "罗", "Zheng": "郑",
    "Wei": "伟", "Jun": "军", "Hao": "浩", "Jie": "杰", "Ming": "明", "Lei": "磊", "Tao": "涛",
    "Yong": "勇", "Chao": "超", "Bo": "波", "Kai": "凯", "Yi": "毅", "Mei": "梅", "Fang": "芳",
    "Jing": "静", "Xiu": "秀", "Yan": "艳", "Hui": "慧", "Ling": "玲", "Na": "娜", "Min": "敏",
    "Xia": "霞", "Ying": "英",
}
GREEK_SCRIPT: dict[str, str] = {
    "Papadopoulos": "Παπαδόπουλος", "Nikolaidis": "Νικολαΐδης", "Georgiou": "Γεωργίου",
    "Papadakis": "Παπαδάκης", "Dimitriou": "Δημητρίου", "Ioannou": "Ιωάννου",
    "Georgios": "Γεώργιος", "Nikolaos": "Νικόλαος", "Konstantinos": "Κωνσταντίνος",
    "Dimitrios": "Δημήτριος", "Ioannis": "Ιωάννης", "Christos": "Χρήστος", "Maria": "Μαρία",
    "Eleni": "Ελένη", "Katerina": "Κατερίνα", "Sophia": "Σοφία", "Georgia": "Γεωργία",
    "Despina": "Δέσποινα",
}

# Formal name -> nicknames a receptionist or patient might use instead.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Catherine": ("Cathy", "Kate", "Cath"), "Michael": ("Mike", "Mick", "Mikey"),
    "David": ("Dave", "Davey"), "James": ("Jim", "Jimmy", "Jamie"),
    "Jennifer": ("Jenny", "Jen"), "Rebecca": ("Bec", "Becky", "Becca"), "Sharon": ("Shaz",),
    "Christopher": ("Chris",), "Matthew": ("Matt",), "Daniel": ("Dan", "Danny"),
    "Anthony": ("Tony", "Ant"), "Thomas": ("Tom", "Tommy"), "Benjamin": ("Ben",),
    "Samuel": ("Sam",), "Alexander": ("Alex", "Xander"), "Nicholas": ("Nick",),
    "Joseph": ("Joe", "Joey"), "Jonathan": ("Jon",), "Stephen": ("Steve",),
    "Steven": ("Steve",), "Andrew": ("Andy", "Drew"), "Richard": ("Rick", "Richie", "Dick"),
    "Edward": ("Ed", "Eddie", "Ted"), "Patrick": ("Pat", "Paddy"), "Peter": ("Pete",),
    "Timothy": ("Tim",), "Gregory": ("Greg",), "Jessica": ("Jess",), "Samantha": ("Sam",),
    "Alexandra": ("Alex", "Lexi"), "Victoria": ("Vicki", "Tori"),
    "Margaret": ("Maggie", "Marg", "Peg"), "Patricia": ("Pat", "Trish"),
    "Deborah": ("Deb", "Debbie"), "Susan": ("Sue", "Suzie"), "Kimberley": ("Kim",),
    "Natalie": ("Nat",), "Charlotte": ("Charlie", "Lottie"), "Abigail": ("Abby",),
    "Stephanie": ("Steph",), "Christine": ("Chris", "Tina"), "Josephine": ("Jo", "Josie"),
    "Joanne": ("Jo",), "Nicole": ("Nikki",), "Jacqueline": ("Jackie",), "Melissa": ("Mel",),
    "Amanda": ("Mandy",), "Kathleen": ("Kath", "Kathy"), "Dorothy": ("Dot", "Dottie"),
    "Barbara": ("Barb",), "Phillip": ("Phil",), "Kenneth": ("Ken", "Kenny"),
    "Raymond": ("Ray",), "Ronald": ("Ron", "Ronnie"), "Donald": ("Don",), "Douglas": ("Doug",),
    "Leonard": ("Len", "Lenny"), "Terence": ("Terry",), "Frederick": ("Fred", "Freddie"),
    "Lawrence": ("Laurie", "Larry"), "Francis": ("Frank",), "Gerald": ("Gerry",),
    "Nathan": ("Nate",), "Zachary": ("Zach",), "Joshua": ("Josh",), "Jacob": ("Jake",),
    "Harrison": ("Harry",), "Henry": ("Harry", "Hank"), "Oliver": ("Ollie",),
    "Isabella": ("Bella", "Izzy"), "Madeleine": ("Maddie",), "Eleanor": ("Ellie", "Nell"),
    "Gabrielle": ("Gabby",), "Geoffrey": ("Geoff",), "Bradley": ("Brad",),
    "Judith": ("Judy",), "Pamela": ("Pam",), "Valerie": ("Val",),
    "Beverley": ("Bev",), "Rosemary": ("Rose", "Rosie"), "Jasmine": ("Jas",),
    "Matilda": ("Tilly",), "Theodore": ("Theo", "Ted"), "Sebastian": ("Seb",),
    "Konstantinos": ("Con", "Kosta"), "Giuseppe": ("Joe",), "Georgios": ("George",),
    "Dimitrios": ("Jim", "Jimmy"), "Salvatore": ("Sam",), "Nikolaos": ("Nick",),
}

MIDDLE_MALE: tuple[str, ...] = (
    "James", "John", "William", "Thomas", "Michael", "David", "Robert", "Alexander", "Edward",
    "Charles", "Patrick", "Joseph", "Lee", "Anthony", "Paul",
)
MIDDLE_FEMALE: tuple[str, ...] = (
    "Anne", "Louise", "Marie", "Jane", "Elizabeth", "Rose", "Grace", "Kate", "Maree", "Lee",
    "May", "Jean", "Claire", "Elise",
)

# Twins with similar (but different) first names; mostly twins get clearly different ones.
SIMILAR_TWIN_NAMES: tuple[tuple[str, str, str], ...] = (
    ("Female", "Ava", "Eva"), ("Female", "Mia", "Maya"), ("Male", "Jayden", "Jordan"),
    ("Male", "Lachlan", "Logan"), ("Female", "Isla", "Ivy"), ("Male", "Aidan", "Adam"),
    ("Female", "Ella", "Emma"), ("Male", "Liam", "Leo"),
)

# Synthetic surname parts: group -> families of (heads, tails) that combine plausibly.
_TAIL_PARTS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "anglo": ((
        ("Ash", "Brad", "Hol", "Whit", "Thorn", "Black", "Fair", "Stan", "Wen", "Col", "Hart",
         "Brook", "Win", "Mar", "Cal", "Pen", "Red", "Aber", "Kil", "Dun", "Ross", "Hay", "Hep",
         "Dal", "Gil", "Lang", "Mor", "Stock", "Sher", "Wood", "Bur", "Crom", "Elm", "Fen",
         "Ather", "Bram", "Chal", "Dray", "Evers", "Grims", "Hather", "Ing", "Kings", "Lynd",
         "Marl", "Nor", "Oak", "Pem", "Rams", "Sal", "Tal", "Up", "Wal", "Yar", "Alder", "Bark",
         "Bing", "Carl", "Chester", "Clay", "Cran", "Dart", "Edge", "Farn", "Fox", "Glad",
         "Hask", "Hurl", "Kem", "Knox", "Lock", "Mallin", "Mid", "Nash", "Ox", "Pad", "Pick",
         "Rad", "Rush", "Sel", "Shel", "Sud", "Swin", "Tad", "Thack", "Tun", "Wad", "War",
         "Wether", "Whar", "Wil", "Wool", "Wy", "Bex", "Cad", "Dew", "Grant", "Ket"),
        ("worth", "ley", "combe", "ton", "ford", "field", "well", "by", "ham", "more", "wood",
         "stone", "bridge", "dale", "hurst", "den", "wick", "sey", "mond", "ridge", "ston",
         "cott", "ling", "ings", "shaw", "brook", "croft", "thorpe", "church", "gate", "low",
         "borough", "cliffe", "hill", "land", "man", "ney", "stead", "wright", "house"),
    ),),
    "european": (
        (("Przybyl", "Wiśniew", "Zieliń", "Lewandow", "Dąbrow", "Jabłoń", "Grabow", "Pawlow",
          "Sadow", "Majew", "Olszew", "Malinow", "Jaworow", "Szczepań", "Kamiń", "Kozłow",
          "Wojciechow", "Sikor", "Baran", "Ostrow"),
         ("ski", "ska")),
        (("Kowal", "Nowa", "Kaczmar", "Wróbl", "Krawc", "Pawl", "Mazur", "Szyman", "Walcz"),
         ("czyk", "ewski", "iak", "ek", "owicz")),
        (("Hor", "Kov", "Marko", "Petr", "Jovan", "Nikol", "Stojan", "Pavl", "Mil", "Rad",
          "Bog", "Vuk", "Dragan", "Zor"),
         ("ović", "ić", "ovic", "ac", "enko", "ov")),
        (("Schwarz", "Beck", "Hoff", "Brandt", "Vogel", "Zimmer", "Kauf", "Lehr", "Acker",
          "Bauer", "Kell", "Wag", "Hart", "Stein", "Gross"),
         ("mann", "er", "berg", "feld", "hauser", "bach", "inger", "haus")),
        (("Lind", "Holm", "Sand", "Ny", "Dahl", "Sjö", "Ek", "Fors", "Strand", "Ahl", "Win"),
         ("strom", "gaard", "sen", "qvist", "berg", "gren", "lund", "ström")),
    ),
    "italian": ((
        ("Bert", "Marc", "Ross", "Fior", "Lorenz", "Bald", "Cass", "Pell", "Sant", "Ton", "Vitt",
         "Fabr", "Gent", "Mart", "Bern", "Benedett", "Cap", "Gall", "Mazz", "Tors", "Ferr",
         "Bell", "Cont", "Pagan", "Vent", "Zan"),
        ("ini", "elli", "etti", "one", "ucci", "ardi", "ato", "ano", "iello", "ozzi", "esi",
         "otti", "aro"),
    ),),
    "greek": ((
        ("Papa", "Kara", "Chrys", "Stavr", "Nik", "Dimitr", "Athan", "Vasil", "Spyr", "Kost",
         "Lamb", "Mav", "Panag", "Tsak", "Zerv", "Alex", "Gian", "Hatz", "Kour", "Mich"),
        ("opoulos", "akis", "idis", "ou", "atos", "ides", "iadis", "elis"),
    ),),
}
# fmt: on


def synthetic_surname(rng: random.Random, group: str) -> str | None:
    """Return a plausible rare surname for ``group``, or None when the group has no tail.

    Args:
        rng: the generator's random source.
        group: a key of :data:`GROUPS`.
    """
    families = _TAIL_PARTS.get(group)
    if families is None:
        return None
    heads, tails = families[int(len(families) * rng.random())]
    name = heads[int(len(heads) * rng.random() ** 1.2)] + tails[int(len(tails) * rng.random())]
    if group == "anglo" and rng.random() < 0.04:
        name = ("Mc", "Mac")[int(2 * rng.random())] + name
    return name


# Share of each group's surnames drawn from the synthetic tail (the rest from the lists).
TAIL_SHARE: dict[str, float] = {"anglo": 0.55, "european": 0.5, "italian": 0.45, "greek": 0.4}


COMMON_SURNAMES: frozenset[str] = frozenset(
    name for names_ in SURNAMES.values() for name in names_[:25]
)
"""The most common surnames of each group: namesakes with these are everyday events."""
