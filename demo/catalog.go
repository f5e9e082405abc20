package demo

import (
	"fmt"
	"math/rand/v2"
)

// tenantSpec is everything about a demo tenant that is written by hand: its
// org tree, jobs, what it teaches, its duplicate people and its admins. The
// random part (who the other learners are and what they did) comes from the
// generator.
type tenantSpec struct {
	id, name, preset string
	rootName         string
	domain           string                   // work e-mail domain
	loginStyle       func(f, l string) string // login of a learner from folded first and last name
	accounts         int                      // total accounts, duplicates and admin's learner account included
	divisions        []division
	jobs             []job
	extraJobs        []string // second jobs some people hold besides their unit's
	courses          []course
	paths            []string
	contents         []content // what attempts are made on
	quizzes          []string  // quizzes that can be suspended or studied in master mode
	badges           []string
	polls            []poll
	events           []string
	creditReasons    []string
	certPrefix       string
	currencies       []weighted // financial record currencies
	externalSystems  []extSystem
	clients          []string // sign-in clients, the first ones desktop
	mobileClients    []string
	officeNet        string // office IPv4 prefix, from a documentation range
	dups             []dupSpec
	admin            adminSpec   // the tenant administrator, who is also a learner
	managers         []adminSpec // group managers
}

type division struct {
	id, name string
	weight   int // share of learners
	units    []unit
}

type unit struct {
	id, name string
	jobs     []string // job ids people in this unit usually hold
}

type job struct{ id, title string }

type course struct {
	id       string
	lectures int
	cert     bool // completion issues a certificate
	price    int  // list price in US cents; 0 for internal courses
}

type content struct {
	id, typ string // quiz|test|exam|vignette
	max     int
}

type poll struct {
	id      string
	options []string
}

type weighted struct {
	value  string
	weight int
}

type extSystem struct {
	name  string
	share float64 // of learners that have an ID there
	value func(r *rand.Rand) string
}

// dupSpec is one person with several accounts; the first is kept.
type dupSpec struct {
	accounts []dupAccount
}

type dupAccount struct {
	name, login, email string // email "" = work e-mail from the login
	unit               string
	inactive           bool
	recent             bool // signed in within the last 30 days
}

type adminSpec struct {
	login, name string
	learner     string // login of the admin's own learner account ("" = none)
	unit        string // the learner account's unit
	group       string // group managers: scope group
	right       string // group managers: edit|view
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func pickWeighted(r *rand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[len(ws)-1].value
}

func hexString(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func alnumString(r *rand.Rand, n int) string {
	const chars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

func tenantSpecs() []*tenantSpec { return []*tenantSpec{acmeSpec(), globexSpec()} }

// acmeSpec is a corporate academy on the learningBOX preset: badges move
// with the source's time, certificates stay, merges can be reverted.
func acmeSpec() *tenantSpec {
	return &tenantSpec{
		id: "acme", name: "Acme Learning Academy", preset: "learningbox",
		rootName: "Acme Corp", domain: "acme.test",
		loginStyle: func(f, l string) string { return f + "." + l },
		accounts:   300,
		divisions: []division{
			{"g-sales", "Sales", 30, []unit{
				{"g-sales-east", "Sales East", []string{"j-sales-rep", "j-account-mgr"}},
				{"g-sales-west", "Sales West", []string{"j-sales-rep", "j-account-mgr"}},
				{"g-sales-central", "Sales Central", []string{"j-sales-rep"}},
			}},
			{"g-eng", "Engineering", 30, []unit{
				{"g-eng-platform", "Platform", []string{"j-engineer"}},
				{"g-eng-mobile", "Mobile Apps", []string{"j-engineer"}},
				{"g-eng-data", "Data & Analytics", []string{"j-data-analyst", "j-engineer"}},
			}},
			{"g-support", "Support", 25, []unit{
				{"g-support-americas", "Support Americas", []string{"j-support"}},
				{"g-support-emea", "Support EMEA", []string{"j-support"}},
				{"g-support-apac", "Support APAC", []string{"j-support"}},
			}},
			{"g-ops", "Operations", 15, []unit{
				{"g-ops-finance", "Finance", []string{"j-finance"}},
				{"g-ops-people", "People & Culture", []string{"j-hr"}},
				{"g-ops-facilities", "Facilities", []string{"j-ops"}},
			}},
		},
		jobs: []job{
			{"j-account-mgr", "Account manager"},
			{"j-data-analyst", "Data analyst"},
			{"j-engineer", "Software engineer"},
			{"j-finance", "Financial analyst"},
			{"j-hr", "HR business partner"},
			{"j-lead", "Team lead"},
			{"j-ops", "Operations coordinator"},
			{"j-sales-rep", "Sales representative"},
			{"j-support", "Support specialist"},
			{"j-trainer", "Internal trainer"},
		},
		extraJobs: []string{"j-lead", "j-lead", "j-trainer"},
		courses: []course{
			{"c-onboarding", 5, true, 0},
			{"c-infosec", 6, true, 0},
			{"c-privacy", 4, true, 0},
			{"c-respect-at-work", 4, true, 0},
			{"c-negotiation", 6, true, 14900},
			{"c-crm-essentials", 5, false, 0},
			{"c-go-fundamentals", 6, true, 19900},
			{"c-sql-for-analysts", 5, true, 9900},
			{"c-empathy-in-support", 4, false, 0},
			{"c-spreadsheets", 5, true, 4900},
			{"c-leading-teams", 6, true, 24900},
			{"c-first-aid", 4, true, 7900},
			{"c-presenting", 4, false, 4900},
		},
		paths: []string{"p-new-hire", "p-sales-excellence", "p-engineering-foundations", "p-support-certified", "p-first-time-manager", "p-compliance"},
		contents: []content{
			{"q-infosec-check", "quiz", 10}, {"q-product-basics", "quiz", 10}, {"q-spreadsheet-formulas", "quiz", 10},
			{"t-privacy", "test", 20}, {"t-sql", "test", 50},
			{"x-infosec-final", "exam", 100}, {"x-negotiation-cert", "exam", 100}, {"x-go-cert", "exam", 100},
			{"v-angry-customer", "vignette", 100}, {"v-phishing-call", "vignette", 100},
		},
		quizzes: []string{"q-infosec-check", "q-product-basics", "q-spreadsheet-formulas", "q-first-aid-steps", "q-go-syntax", "q-privacy-terms", "q-sales-vocabulary", "q-support-macros"},
		badges:  []string{"b-first-steps", "b-quiz-master", "b-security-champion", "b-7-day-streak", "b-mentor", "b-early-bird", "b-top-seller", "b-bug-hunter", "b-customer-hero", "b-lifelong-learner"},
		polls: []poll{
			{"poll-lunch-and-learn", []string{"Negotiation", "Time management", "AI tools at work", "Public speaking"}},
			{"poll-training-format", []string{"Short videos", "Live workshop", "Reading", "A mix"}},
			{"poll-onboarding-rating", []string{"1", "2", "3", "4", "5"}},
			{"poll-offsite-city", []string{"Lisbon", "Kyoto", "Vancouver", "Cape Town"}},
			{"poll-best-learning-time", []string{"Morning", "Lunch break", "Afternoon", "Evening"}},
		},
		events:        []string{"ev-annual-kickoff", "ev-webinar-ai-at-work", "ev-town-hall-spring", "ev-town-hall-autumn", "ev-first-aid-workshop", "ev-hackathon", "ev-customer-summit", "ev-wellbeing-week"},
		creditReasons: []string{"Course completed", "Quiz streak", "Helpful forum answer", "Webinar attended", "Peer kudos", "Survey completed"},
		certPrefix:    "ACME",
		currencies:    []weighted{{"USD", 70}, {"EUR", 20}, {"JPY", 10}},
		externalSystems: []extSystem{
			{"sso", 0.92, func(r *rand.Rand) string {
				return hexString(r, 8) + "-" + hexString(r, 4) + "-4" + hexString(r, 3) + "-a" + hexString(r, 3) + "-" + hexString(r, 12)
			}},
			{"hris", 0.75, func(r *rand.Rand) string { return fmt.Sprintf("ACM-%06d", 100000+r.IntN(900000)) }},
		},
		clients:       []string{"Chrome 131 on Windows 11", "Edge 131 on Windows 11", "Chrome 130 on Windows 10", "Safari 18 on macOS", "Firefox 133 on Ubuntu"},
		mobileClients: []string{"learningBOX app 4.2 on iOS 18", "learningBOX app 4.1 on Android 14", "Safari on iPhone (iOS 18)", "Chrome on Android 14"},
		officeNet:     "203.0.113.",
		dups: []dupSpec{
			{[]dupAccount{
				{name: "María García", login: "maria.garcia", unit: "g-sales-east"},
				{name: "Maria Garcia", login: "mgarcia", email: "maria.garcia@acme.test", unit: "g-sales-east", recent: true},
			}},
			{[]dupAccount{
				{name: "Robert Johnson", login: "robert.johnson", unit: "g-sales-west"},
				{name: "Bob Johnson", login: "bob.johnson", email: "bobjohnson77@mail.example", unit: "g-sales-west"},
			}},
			{[]dupAccount{
				{name: "Jürgen Müller", login: "juergen.mueller", unit: "g-sales-central"},
				{name: "Juergen Mueller", login: "jmueller", email: "juergen.mueller@acme.test", unit: "g-sales-east", inactive: true},
			}},
			{[]dupAccount{
				{name: "Chinedu Okafor", login: "chinedu.okafor", unit: "g-sales-west"},
				{name: "C. Okafor", login: "cokafor", email: "chinedu.okafor@inbox.example", unit: "g-sales-west", recent: true},
			}},
			{[]dupAccount{
				{name: "Siobhán O'Brien", login: "siobhan.obrien", unit: "g-sales-east"},
				{name: "Siobhan O'Brien", login: "siobhan.obrien2", email: "siobhan.obrien@mail.example", unit: "g-sales-east", inactive: true},
			}},
			{[]dupAccount{
				{name: "Yuki Tanaka", login: "yuki.tanaka", unit: "g-eng-platform"},
				{name: "Tanaka Yuki", login: "tanaka.yuki", unit: "g-eng-platform"},
			}},
			{[]dupAccount{
				{name: "Priya Sharma", login: "priya.sharma", unit: "g-eng-data"},
				{name: "Priya Sharma", login: "psharma", email: "priya.sharma@mail.example", unit: "g-eng-mobile", recent: true},
			}},
			{[]dupAccount{
				{name: "Łukasz Nowak", login: "lukasz.nowak", unit: "g-eng-mobile"},
				{name: "Lukasz Nowak", login: "lnowak", email: "lukasz.nowak@acme.test", unit: "g-eng-mobile", inactive: true},
			}},
			{[]dupAccount{
				{name: "Anna Schmidt-Weber", login: "anna.schmidt", unit: "g-support-emea"},
				{name: "Anna Weber", login: "anna.weber", unit: "g-support-emea"},
			}},
			{[]dupAccount{
				{name: "Nguyễn Thị Lan", login: "lan.nguyen", unit: "g-support-apac"},
				{name: "Lan Nguyen", login: "nguyen.lan", email: "lan.nguyen@acme.test", unit: "g-support-apac", inactive: true},
			}},
			{[]dupAccount{
				{name: "Ayşe Yılmaz", login: "ayse.yilmaz", unit: "g-ops-finance"},
				{name: "Ayse Yilmaz", login: "ayilmaz", email: "ayse.yilmaz@inbox.example", unit: "g-ops-finance", recent: true},
			}},
			// Moved from Sales to Support and got a new account there: the
			// sales editor may not merge it, a tenant admin may.
			{[]dupAccount{
				{name: "José Luis Hernández", login: "jose.hernandez", unit: "g-sales-central"},
				{name: "José Hernández", login: "jlhernandez", unit: "g-support-americas"},
			}},
			{[]dupAccount{
				{name: "Katherine Lee", login: "katherine.lee", unit: "g-support-americas"},
				{name: "Kate Lee", login: "kate.lee", unit: "g-support-americas", recent: true},
				{name: "K. Lee", login: "klee", email: "kate.lee@mail.example", unit: "g-support-americas", inactive: true},
			}},
		},
		admin: adminSpec{login: "admin", name: "Olivia Bennett", learner: "olivia.bennett", unit: "g-ops-people"},
		managers: []adminSpec{
			{login: "sales-editor", name: "Sam Rivera", group: "g-sales", right: "edit"},
			{login: "eng-viewer", name: "Inês Duarte", group: "g-eng", right: "view"},
			{login: "support-editor", name: "Tom Becker", group: "g-support", right: "edit"},
		},
	}
}

// globexSpec is a retail academy on the Schoox preset: badges and credits
// stay, certificates move, merges are irreversible.
func globexSpec() *tenantSpec {
	return &tenantSpec{
		id: "globex", name: "Globex Academy", preset: "schoox",
		rootName: "Globex Corporation", domain: "globex.test",
		loginStyle: func(f, l string) string { return f[:1] + l },
		accounts:   300,
		divisions: []division{
			{"g-sales", "Sales", 35, []unit{
				{"g-sales-enterprise", "Enterprise Sales", []string{"j-account-exec"}},
				{"g-sales-smb", "SMB Sales", []string{"j-account-exec", "j-sdr"}},
				{"g-sales-partners", "Partner Sales", []string{"j-account-exec"}},
			}},
			{"g-eng", "Engineering", 25, []unit{
				{"g-eng-backend", "Backend", []string{"j-developer"}},
				{"g-eng-frontend", "Frontend", []string{"j-developer"}},
				{"g-eng-qa", "Quality Assurance", []string{"j-qa"}},
			}},
			{"g-support", "Support", 25, []unit{
				{"g-support-tier1", "Customer Care Tier 1", []string{"j-care-agent"}},
				{"g-support-tier2", "Customer Care Tier 2", []string{"j-care-agent"}},
			}},
			{"g-ops", "Operations", 15, []unit{
				{"g-ops-finance", "Finance", []string{"j-controller"}},
				{"g-ops-hr", "Human Resources", []string{"j-people-partner"}},
				{"g-ops-logistics", "Logistics", []string{"j-logistics"}},
			}},
		},
		jobs: []job{
			{"j-account-exec", "Account executive"},
			{"j-care-agent", "Customer care agent"},
			{"j-controller", "Controller"},
			{"j-developer", "Developer"},
			{"j-logistics", "Logistics planner"},
			{"j-manager", "Manager"},
			{"j-people-partner", "People partner"},
			{"j-qa", "QA engineer"},
			{"j-sdr", "Sales development representative"},
		},
		extraJobs: []string{"j-manager"},
		courses: []course{
			{"c-welcome-to-globex", 5, true, 0},
			{"c-code-of-conduct", 4, true, 0},
			{"c-data-protection", 4, true, 0},
			{"c-customer-first", 6, true, 0},
			{"c-consultative-selling", 6, true, 12900},
			{"c-product-catalog-2", 5, false, 0},
			{"c-kubernetes-basics", 6, true, 17900},
			{"c-test-automation", 5, true, 9900},
			{"c-deescalation", 4, true, 5900},
			{"c-budgeting", 5, false, 3900},
			{"c-coaching-skills", 6, true, 22900},
			{"c-warehouse-safety", 4, true, 0},
			{"c-inclusive-teams", 4, false, 0},
		},
		paths: []string{"p-onboarding", "p-sales-academy", "p-dev-bootcamp", "p-care-professional", "p-people-leader", "p-safety-first"},
		contents: []content{
			{"q-catalog-check", "quiz", 10}, {"q-conduct-check", "quiz", 10},
			{"t-data-protection", "test", 20}, {"t-kubernetes", "test", 40},
			{"x-selling-cert", "exam", 100}, {"x-care-cert", "exam", 100}, {"x-safety-cert", "exam", 100},
			{"v-upset-client", "vignette", 100}, {"v-forklift-hazard", "vignette", 100}, {"v-pricing-objection", "vignette", 100},
		},
		quizzes: []string{"q-catalog-check", "q-conduct-check", "q-kubectl-commands", "q-return-policy", "q-safety-signs", "q-pricing-rules", "q-escalation-paths"},
		badges:  []string{"b-welcome-aboard", "b-fast-learner", "b-safety-star", "b-closer", "b-team-player", "b-30-day-streak", "b-knowledge-sharer", "b-perfect-score", "b-care-champion"},
		polls: []poll{
			{"poll-next-webinar", []string{"Negotiation", "Kubernetes", "Wellbeing", "Customer stories"}},
			{"poll-course-length", []string{"Under 10 minutes", "10-30 minutes", "30-60 minutes", "Over an hour"}},
			{"poll-academy-nps", []string{"6", "7", "8", "9", "10"}},
			{"poll-summer-party", []string{"Beach", "Rooftop", "Boat trip", "Picnic"}},
		},
		events:        []string{"ev-sales-summit", "ev-product-launch-live", "ev-safety-day", "ev-all-hands-q1", "ev-all-hands-q3", "ev-kubernetes-meetup", "ev-care-awards", "ev-mentoring-breakfast"},
		creditReasons: []string{"Course completed", "Assessment passed", "Event attended", "Answered a colleague's question", "Survey completed"},
		certPrefix:    "GX",
		currencies:    []weighted{{"EUR", 60}, {"USD", 25}, {"JPY", 15}},
		externalSystems: []extSystem{
			{"sso", 0.9, func(r *rand.Rand) string { return "00u" + alnumString(r, 17) }},
			{"hris", 0.8, func(r *rand.Rand) string { return fmt.Sprintf("GX%06d", r.IntN(1000000)) }},
			{"lti", 0.15, func(r *rand.Rand) string { return "lti-" + hexString(r, 16) }},
		},
		clients:       []string{"Chrome 131 on Windows 11", "Edge 130 on Windows 10", "Safari 18 on macOS", "Chrome 131 on ChromeOS"},
		mobileClients: []string{"Schoox app 7.3 on iOS 18", "Schoox app 7.2 on Android 14", "Chrome on Android 13", "Safari on iPad (iPadOS 18)"},
		officeNet:     "198.51.100.",
		dups: []dupSpec{
			{[]dupAccount{
				{name: "Sophie Martin", login: "smartin", unit: "g-sales-enterprise"},
				{name: "Sophie Martin", login: "sophie.martin", email: "sophie.martin@mail.example", unit: "g-sales-enterprise", recent: true},
			}},
			{[]dupAccount{
				{name: "Mohammed Al-Farsi", login: "malfarsi", unit: "g-sales-smb"},
				{name: "Mohamed Alfarsi", login: "mohamed.alfarsi", unit: "g-sales-smb"},
			}},
			{[]dupAccount{
				{name: "João Silva", login: "jsilva", unit: "g-sales-partners"},
				{name: "Joao Silva", login: "joaosilva", email: "jsilva@globex.test", unit: "g-sales-smb", inactive: true},
			}},
			{[]dupAccount{
				{name: "Elizabeth Brooks", login: "ebrooks", unit: "g-sales-enterprise"},
				{name: "Liz Brooks", login: "lbrooks", email: "liz.brooks@inbox.example", unit: "g-sales-enterprise", recent: true},
			}},
			{[]dupAccount{
				{name: "Hiroshi Yamamoto", login: "hyamamoto", unit: "g-sales-smb"},
				{name: "Yamamoto Hiroshi", login: "yamamoto.h", unit: "g-sales-smb", inactive: true},
			}},
			{[]dupAccount{
				{name: "Björn Lindqvist", login: "blindqvist", unit: "g-eng-backend"},
				{name: "Bjorn Lindqvist", login: "bjorn.lindqvist", email: "blindqvist@globex.test", unit: "g-eng-backend"},
			}},
			{[]dupAccount{
				{name: "Aisha Bello", login: "abello", unit: "g-eng-frontend"},
				{name: "Aisha Bello", login: "abello2", email: "aisha.bello@mail.example", unit: "g-eng-frontend", recent: true},
			}},
			{[]dupAccount{
				{name: "Dmitri Volkov", login: "dvolkov", unit: "g-eng-qa"},
				{name: "Dmitry Volkov", login: "dmitry.volkov", unit: "g-eng-qa", inactive: true},
			}},
			{[]dupAccount{
				{name: "Wei Zhang", login: "wzhang", unit: "g-support-tier1"},
				{name: "Zhang Wei", login: "zhangwei", unit: "g-support-tier1"},
			}},
			{[]dupAccount{
				{name: "Fatima Zahra Benali", login: "fbenali", unit: "g-support-tier2"},
				{name: "Fatima Benali", login: "fatima.benali", email: "fatima.benali@inbox.example", unit: "g-support-tier2", recent: true},
			}},
			{[]dupAccount{
				{name: "Carlos Mendoza", login: "cmendoza", unit: "g-ops-logistics"},
				{name: "Carlos Mendosa", login: "cmendosa", unit: "g-ops-logistics", inactive: true},
			}},
			// Moved from SMB Sales to HR and got a new account there: outside
			// the sales editor's scope.
			{[]dupAccount{
				{name: "Amara Nwosu", login: "anwosu", unit: "g-sales-smb"},
				{name: "Amara Nwosu-Eze", login: "amara.nwosu", unit: "g-ops-hr"},
			}},
			{[]dupAccount{
				{name: "Alexander Petrov", login: "apetrov", unit: "g-eng-backend"},
				{name: "Alex Petrov", login: "alex.petrov", unit: "g-eng-backend", recent: true},
				{name: "A. Petrov", login: "apetrov2", email: "alex.petrov@mail.example", unit: "g-eng-frontend", inactive: true},
			}},
		},
		admin: adminSpec{login: "admin", name: "Kenji Watanabe", learner: "kwatanabe", unit: "g-ops-hr"},
		managers: []adminSpec{
			{login: "sales-editor", name: "Lucía Romero", group: "g-sales", right: "edit"},
			{login: "eng-viewer", name: "Arjun Mehta", group: "g-eng", right: "view"},
			{login: "support-editor", name: "Nora Hansen", group: "g-support", right: "edit"},
		},
	}
}

// culture is a set of first and last names that go together.
type culture struct {
	first, last []string
}

var cultures = []culture{
	{[]string{"María", "José", "Lucía", "Javier", "Carmen", "Andrés", "Sofía", "Diego", "Elena", "Pablo"},
		[]string{"García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz", "Morales"}},
	{[]string{"Jürgen", "Katrin", "Lukas", "Anke", "Matthias", "Sabine", "Felix", "Jörg", "Lena", "Tobias"},
		[]string{"Müller", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer", "Koch", "Bauer", "Krüger"}},
	{[]string{"James", "Emily", "Michael", "Sarah", "David", "Jessica", "Daniel", "Hannah", "Thomas", "Rachel", "Christopher", "Megan"},
		[]string{"Smith", "Williams", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Hughes", "Mitchell", "Turner", "Parker", "Evans"}},
	{[]string{"Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Kaito", "Sakura", "Daiki", "Misaki"},
		[]string{"Sato", "Suzuki", "Takahashi", "Ito", "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada", "Inoue"}},
	{[]string{"Wei", "Fang", "Jun", "Hao", "Xin", "Yan", "Ming", "Jing", "Lei", "Yu"},
		[]string{"Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu"}},
	{[]string{"Priya", "Arjun", "Ananya", "Rahul", "Divya", "Vikram", "Sneha", "Rohan", "Kavya", "Aditya"},
		[]string{"Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Rao", "Desai", "Menon"}},
	{[]string{"Chinedu", "Ngozi", "Oluwaseun", "Amaka", "Emeka", "Funmilayo", "Tunde", "Chiamaka", "Ifeanyi", "Kemi"},
		[]string{"Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu", "Adebayo", "Obi", "Afolabi", "Okeke"}},
	{[]string{"Omar", "Layla", "Youssef", "Nour", "Karim", "Salma", "Hassan", "Rania", "Tariq", "Mariam"},
		[]string{"Haddad", "Nasser", "Khalil", "Saleh", "Mansour", "Aziz", "Farouk", "Hamdan", "Kassab", "Rahman"}},
	{[]string{"Łukasz", "Agnieszka", "Michał", "Katarzyna", "Paweł", "Małgorzata", "Piotr", "Zofia", "Tomasz", "Joanna"},
		[]string{"Nowak", "Wójcik", "Kaczmarek", "Mazur", "Krawczyk", "Zając", "Król", "Wróbel", "Dudek", "Pawlak"}},
	{[]string{"Élodie", "Mathieu", "Camille", "Julien", "Chloé", "Antoine", "Manon", "Théo", "Léa", "Nicolas"},
		[]string{"Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine", "Chevalier", "Mercier", "Lambert"}},
	{[]string{"Björn", "Astrid", "Erik", "Ingrid", "Lars", "Sigrid", "Anders", "Elin", "Henrik", "Maja"},
		[]string{"Lindqvist", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson"}},
	{[]string{"Ayşe", "Mehmet", "Elif", "Emre", "Zeynep", "Burak", "Selin", "Can", "Deniz", "Oğuz"},
		[]string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Arslan", "Doğan", "Kılıç"}},
	{[]string{"An", "Linh", "Minh", "Thảo", "Huy", "Trang", "Dũng", "Mai", "Quân", "Hương"},
		[]string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"}},
	{[]string{"João", "Ana", "Lucas", "Beatriz", "Rafael", "Camila", "Thiago", "Juliana", "Gabriel", "Larissa"},
		[]string{"Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Ribeiro", "Carvalho", "Gomes"}},
	{[]string{"Ji-woo", "Min-jun", "Seo-yeon", "Hyun-woo", "Ji-min", "Do-yun", "Soo-ah", "Jae-won", "Ha-eun", "Eun-ji"},
		[]string{"Kim", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han"}},
	{[]string{"Siobhán", "Cian", "Aoife", "Niamh", "Seán", "Ciarán", "Orla", "Darragh"},
		[]string{"Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne", "Ryan", "O'Connor", "Doyle"}},
	{[]string{"Kwame", "Abena", "Kofi", "Akosua", "Yaw", "Efua", "Kojo", "Adjoa"},
		[]string{"Mensah", "Owusu", "Asante", "Boateng", "Osei", "Appiah", "Darko", "Agyeman"}},
	{[]string{"Mateo", "Valentina", "Santiago", "Camila", "Sebastián", "Isabella", "Nicolás", "Gabriela"},
		[]string{"Rodríguez", "Gómez", "Díaz", "Castro", "Vargas", "Rojas", "Herrera", "Jiménez"}},
}
