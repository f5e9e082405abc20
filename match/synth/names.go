package synth

// Name lists, most common first. A person's name is drawn from them with
// Zipf-like weights (see pick), so the first names are very common (Smith,
// John, Maria, Wang, Wei) and the tail is rare; a share of the names is
// made from syllables instead (rareName), so that most people of a large
// tenant have a name few others have, as in real data.

var familyNames = []string{
	"Smith", "Garcia", "Wang", "Johnson", "Müller", "Nguyễn", "Williams", "Brown", "Li", "Jones",
	"Zhang", "Miller", "Schmidt", "Davis", "Rodriguez", "Martinez", "Liu", "Chen", "Kim", "Lee",
	"Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Trần", "Lê", "Park", "Murphy", "Kelly",
	"O'Brien", "O'Connor", "Taylor", "Wilson", "Anderson", "Thomas", "Jackson", "White", "Harris", "Martin",
	"Thompson", "Moore", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
	"Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner",
	"Becker", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
	"Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Köhler", "Phillips", "Campbell", "Parker",
	"Evans", "Edwards", "Collins", "Stewart", "Morris", "Rogers", "Reed", "Cook", "Morgan", "Bell",
	"González", "Hernández", "López", "Pérez", "Sánchez", "Ramírez", "Torres", "Rivera", "Gómez", "Díaz",
	"Dubois", "Lefèvre", "Moreau", "Kowalski", "Nowak", "Wiśniewski", "Jansen", "de Vries", "van den Berg", "Rossi",
	"Russo", "Ferrari", "Esposito", "Bianchi", "Silva", "Santos", "Oliveira", "Pereira", "Costa", "Ivanov",
	"Petrov", "Singh", "Kumar", "Patel", "Sharma", "Gupta", "Khan", "Ali", "Ahmed", "Hussain",
	"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe",
	"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Hansen", "Jensen", "Nielsen", "Pedersen", "Virtanen",
	"Mäkinen", "Novák", "Horváth", "Nagy", "Papadopoulos", "Al-Farsi", "Haddad", "Sullivan", "Walsh", "McCarthy",
	"Cooper", "Richardson", "Howard", "Ward", "Peterson", "Gray", "Watson", "Brooks", "Sanders", "Price",
	"Bennett", "Wood", "Barnes", "Ross", "Henderson", "Coleman", "Jenkins", "Perry", "Powell", "Hughes",
	"Flores", "Butler", "Simmons", "Foster", "Bryant", "Alexander", "Russell", "Griffin", "Hayes", "Myers",
	"Ó Súilleabháin", "Fitzgerald", "MacDonald", "Nakamura", "Kobayashi", "Huang", "Zhao", "Wu", "Zhou", "Xu",
}

var maleNames = []string{
	"John", "Wei", "James", "Robert", "Michael", "William", "David", "Mohammed", "Richard", "Joseph",
	"Thomas", "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Andrew", "José", "Stephen", "Edward",
	"Jürgen", "Thomas", "Peter", "Klaus", "Stefan", "Andreas", "Michael", "Hiroshi", "Takeshi", "Min-jun",
	"Minh", "Quang", "Hùng", "Seán", "Patrick", "Liam", "Björn", "Søren", "Łukasz", "Jakub",
	"Ahmed", "Ali", "Omar", "Raj", "Arjun", "Dmitri", "Sergei", "Ivan", "Luca", "Marco",
	"Giovanni", "Pierre", "François", "Jean", "Carlos", "Luis", "Juan", "Miguel", "Benjamin", "Samuel",
	"Alexander", "Nicholas", "Jonathan", "Timothy", "Kenneth", "Gregory", "Jacob", "Joshua", "Nathaniel", "Zachary",
	"Francis", "Eugene", "Vincent", "Walter", "Gabriel", "Ernest", "Stanley", "Russell", "Oliver", "Sebastian",
	"Dominic", "Theodore", "Maximilian", "Emre", "Mehmet", "Kenji", "Haruto", "Lars", "Mikko", "Tomás",
}

var femaleNames = []string{
	"Maria", "Mary", "Elizabeth", "Jennifer", "Wei", "Katherine", "Margaret", "Anna", "Patricia", "Susan",
	"Jessica", "Sarah", "Li Na", "Fatima", "Mei", "Zoë", "Chloé", "Siobhan", "Aoife", "Niamh",
	"Ngọc", "Thảo", "Linh", "Yuki", "Sakura", "Priya", "Aisha", "Olga", "Natalia", "Sofia",
	"Rebecca", "Deborah", "Barbara", "Dorothy", "Victoria", "Christine", "Samantha", "Alexandra", "Nicole", "Emily",
	"Emma", "Olivia", "Isabella", "Eleanor", "Caroline", "Angela", "Valerie", "Penelope", "Jacqueline", "Josephine",
	"Louise", "Frances", "Gabrielle", "Madeline", "Teresa", "Pamela", "Melissa", "Kimberly", "Judith", "Virginia",
	"Ursula", "Sabine", "Petra", "Birgit", "Monika", "Hélène", "Amélie", "Giulia", "Francesca", "Lucía",
	"Carmen", "Ana", "Małgorzata", "Agnieszka", "Ingrid", "Astrid", "Sigrid", "Ayşe", "Elif", "Hana",
	"Ji-woo", "Seo-yeon", "Ananya", "Deepika", "Leila", "Yasmin", "Grace", "Helen", "Laura", "Julia",
}

// Syllables of the made-up rare names.
var syllables = []string{
	"ab", "ad", "al", "am", "an", "ar", "as", "ba", "be", "bo", "bra", "ca", "ce", "cha", "co", "da",
	"de", "di", "do", "dra", "el", "em", "en", "er", "es", "fa", "fe", "fi", "ga", "ge", "gi", "go",
	"ha", "he", "hi", "ho", "il", "in", "is", "ja", "jo", "ka", "ke", "ki", "ko", "la", "le", "li",
	"lo", "lu", "ma", "me", "mi", "mo", "mu", "na", "ne", "ni", "no", "nu", "or", "os", "pa", "pe",
	"pi", "po", "ra", "re", "ri", "ro", "ru", "sa", "se", "si", "so", "ta", "te", "ti", "to", "tu",
	"va", "ve", "vi", "vo", "wa", "we", "wi", "ya", "yo", "za", "ze", "zo",
}

var familyEndings = []string{"", "", "", "son", "sen", "ley", "ton", "berg", "ov", "ez", "man", "er", "ini", "escu", "ski", "well", "ford", "ham", "worth", "stein"}

var givenEndings = []string{"", "", "n", "a", "o", "ia", "el", "us", "ine", "an"}

// commonFullNames are whole names many people have (namesakes must not be
// matched on the name alone).
var commonFullNames = [][2]string{
	{"John", "Smith"}, {"Maria", "Garcia"}, {"Wei", "Wang"}, {"Mohammed", "Khan"}, {"Anna", "Müller"},
	{"James", "Brown"}, {"Li Na", "Zhang"}, {"Minh", "Nguyễn"}, {"Mary", "Murphy"}, {"David", "Jones"},
}

var companies = []string{
	"northwind", "contoso", "fabrikam", "globex", "initech", "umbrella", "hooli", "vandelay",
	"acme-learning", "stark", "wayne", "tyrell", "cyberdyne", "soylent", "gringotts", "monarch",
}

var companyTLDs = []string{".com", ".de", ".co.uk", ".fr", ".org", ".edu"}

// freeMail are free mail providers; gmail.com ignores dots and +tags in the
// local part, and so does googlemail.com.
var freeMail = []string{"gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "web.de", "gmx.de", "icloud.com", "googlemail.com"}

var clients = []string{
	"Chrome 131 on Windows", "Chrome 131 on macOS", "Firefox 133 on Windows", "Safari 18 on iPhone",
	"Safari 18 on macOS", "Edge 131 on Windows", "Chrome 131 on Android", "Mobile app 4.2 on Android",
	"Mobile app 4.2 on iOS", "Firefox 133 on Linux", "Samsung Internet 26", "Chrome 120 on ChromeOS",
}
