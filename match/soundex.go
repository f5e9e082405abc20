package match

// Soundex is the American Soundex code of a name, as the U.S. National
// Archives defines it for the census indexes: the first letter, then the
// digits of the following consonants (b f p v→1; c g j k q s x z→2; d t→3;
// l→4; m n→5; r→6), letters with the same digit next to each other (or
// separated only by h or w, or being the first letter and the next) coded
// once, vowels and y separating them but not coded, padded with zeros to four
// characters: Robert and Rupert R163, Ashcraft A261, Tymczak T522, Pfister
// P236.
//
// The name is folded first (FoldName), so accents do not matter and Müller,
// Mueller and Muller share M460. Letters outside a-z after folding are
// ignored; a name with none has the empty code.
//
// Soundex is the blocking key rather than NYSIIS or Double Metaphone because
// it has one official definition with published answers (NYSIIS has several
// diverging variants, Double Metaphone is hundreds of rules), and because its
// coarseness is what blocking wants: a missed pair is lost for good, while
// an extra pair only costs one comparison.
func Soundex(name string) string {
	code := [4]byte{'0', '0', '0', '0'}
	n := 0
	var last byte // the digit of the previous coded-or-skipped letter
	for _, r := range FoldName(name) {
		if r < 'a' || r > 'z' {
			continue
		}
		c := byte(r)
		d := soundexDigit[c-'a']
		if n == 0 {
			code[0] = c - 'a' + 'A'
			n, last = 1, d
			continue
		}
		switch {
		case c == 'h' || c == 'w':
			// Not coded, and does not separate equal digits.
		case d == 0:
			last = 0 // a vowel (or y) separates equal digits
		case d != last:
			code[n] = d
			n++
			last = d
		}
		if n == 4 {
			break
		}
	}
	if n == 0 {
		return ""
	}
	return string(code[:])
}

var soundexDigit = [26]byte{
	//a  b    c    d    e  f    g    h  i  j    k    l    m    n    o  p    q    r    s    t    u  v    w  x    y  z
	0, '1', '2', '3', 0, '1', '2', 0, 0, '2', '2', '4', '5', '5', 0, '1', '2', '6', '2', '3', 0, '1', 0, '2', 0, '2',
}
