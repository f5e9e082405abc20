package match

import "strings"

// nicknameGroups are common English given names with their usual short and
// pet forms. Each line is one group: a formal name (with its common
// alternative spellings) and its nicknames. Two given names are nicknames of
// each other when they share a group, so the relation is symmetric by
// construction, and a short form in several groups (Al, Ted, Chris, Sam)
// relates to each formal name but does not make those formal names related
// (Edward and Theodore stay different people).
//
// Written by hand from the usual lists (the U.S. and U.K. diminutives every
// genealogy nickname list carries); only pairs in common use are here,
// because a wrong pair costs a false match.
var nicknameGroups = []string{
	"robert bob bobby rob robbie robby bert",
	"william bill billy will willie willy liam",
	"elizabeth elisabeth liz lizzie lizzy beth betty betsy bess eliza libby lisa elsie",
	"katherine catherine kathryn kathleen katharine catharine kate katie katy kathy cathy kat kit kitty",
	"margaret maggie meg peggy marge margie greta",
	"james jim jimmy jamie",
	"john jack johnny jon",
	"jonathan jon jonny",
	"michael mike mikey mick mickey",
	"richard rick ricky dick rich richie",
	"thomas tom tommy",
	"charles charlie chuck chas",
	"joseph joe joey",
	"daniel dan danny",
	"david dave davey davy",
	"christopher chris kit",
	"christine christina kristina kristine chris tina chrissy",
	"matthew matt matty",
	"anthony antony tony",
	"andrew andy drew",
	"stephen steven steve stevie",
	"edward ed eddie ted teddy ned",
	"edmund ed eddie ned",
	"theodore ted teddy theo",
	"benjamin ben benny",
	"samuel sam sammy",
	"samantha sam sammy",
	"alexander alex al alec sandy",
	"alexandra alex sandra sandy lexi",
	"patrick pat paddy",
	"patricia pat patty trish tricia",
	"nicholas nick nicky",
	"nicole nicky nikki",
	"jennifer jen jenny",
	"jessica jess jessie",
	"rebecca becky becca",
	"deborah debra debbie deb",
	"susan suzanne sue susie suzy",
	"barbara barb babs",
	"dorothy dot dottie",
	"victoria vicky vicki tori",
	"gregory greg",
	"timothy tim timmy",
	"kenneth ken kenny",
	"ronald ron ronnie",
	"donald don donnie",
	"gerald gerry jerry",
	"jeffrey geoffrey jeff geoff",
	"lawrence laurence larry",
	"raymond ray",
	"frederick fred freddie freddy",
	"albert al bert",
	"alfred al alf fred",
	"alan allan allen al",
	"peter pete",
	"philip phillip phil",
	"douglas doug",
	"leonard leo len lenny",
	"harold harry hal",
	"henry harry hank hal",
	"abigail abby",
	"amanda mandy",
	"cynthia cindy",
	"judith judy",
	"kimberly kimberley kim",
	"melissa mel missy",
	"melanie mel",
	"pamela pam",
	"teresa theresa terry tess tessa",
	"terence terrence terry",
	"virginia ginny",
	"zachary zach zack",
	"joshua josh",
	"nathaniel nathan nate nat",
	"jacob jake",
	"jacqueline jackie",
	"josephine jo josie",
	"louis lou",
	"louise lou",
	"isabella isabel isobel izzy bella",
	"eleanor ellie nell nora",
	"helen nell",
	"frances fran frankie",
	"francis frank frankie",
	"franklin frank",
	"eugene gene",
	"vincent vince vinny",
	"walter walt wally",
	"gabriel gabe",
	"gabrielle gabby",
	"ernest ernie",
	"stanley stan",
	"russell russ",
	"mitchell mitch",
	"maximilian max",
	"maxwell max",
	"oliver ollie",
	"olivia liv",
	"sebastian seb",
	"dominic dom",
	"emily em emmy",
	"emma em",
	"madeline madeleine maddie",
	"caroline carolyn carrie",
	"angela angie",
	"valerie val",
	"cassandra cassie",
	"penelope penny",
	"mary molly polly",
	"sarah sara sally",
	"ann anne anna annie nan nancy",
	"arthur art",
	"bernard bernie",
	"clifford cliff",
	"curtis curt",
	"herbert herb bert",
	"jeremy jeremiah jerry",
	"martin marty",
	"randolph randall randy",
	"reginald reg reggie",
	"rodney rod",
	"tobias toby",
	"wilfred wilf",
	"vanessa nessa",
	"rosemary rose rosie",
	"lucinda lucy",
	"lucille lucy",
	"evelyn evie",
	"florence flo",
}

// nicknameIndex maps each name in the table to the groups it belongs to.
var nicknameIndex = func() map[string][]uint16 {
	idx := make(map[string][]uint16)
	for g, line := range nicknameGroups {
		for _, n := range strings.Fields(line) {
			idx[n] = append(idx[n], uint16(g))
		}
	}
	return idx
}()

// Nickname reports whether two different given names are the same name in
// the nickname table (Bob and Robert, Kate and Katherine, Bob and Rob). Names
// are normalised first and only the first word of each is looked up, so
// "Bob J." and "Robert" are nicknames. Equal names are not nicknames of each
// other; the relation is symmetric.
func Nickname(a, b string) bool {
	return nickname(firstWord(NormalizeName(a)), firstWord(NormalizeName(b)))
}

func nickname(a, b string) bool {
	if a == "" || b == "" || a == b {
		return false
	}
	ga, gb := nicknameIndex[a], nicknameIndex[b]
	for _, x := range ga {
		for _, y := range gb {
			if x == y {
				return true
			}
		}
	}
	return false
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}
