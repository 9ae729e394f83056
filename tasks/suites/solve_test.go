package suites

// Independent solvers: each parses the RENDERED prompt and options plus the
// human-readable Task.Hidden strings (never the generator's structs), and
// recomputes the answer. Agreement with Example.Answer checks the generator,
// the rendering and the Hidden descriptions at once.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/degaml/workbench/tasks"
)

type solver func(hidden map[string]string, ex tasks.Example) (int, error)

var solvers = map[string]solver{
	"arc-easy":      solveARC,
	"arc-challenge": solveARC,
	"hellaswag":     solveHellaSwag,
	"boolq":         solveBoolQ,
	"piqa":          solvePIQA,
	"winogrande":    solveWinoGrande,
	"gsm-mc":        solveGSM,
	"math-mc":       solveMath,
	"logic":         solveLogic,
	"social":        solveSocial,
	"code":          solveCode,
	"medical":       solveMedical,
}

var errNoUnique = errors.New("not exactly one option is right")

// unique returns the single index where ok holds.
func unique(n int, ok func(int) bool) (int, error) {
	ans := -1
	for i := range n {
		if ok(i) {
			if ans >= 0 {
				return -1, errNoUnique
			}
			ans = i
		}
	}
	if ans < 0 {
		return -1, errNoUnique
	}
	return ans, nil
}

func match(re *regexp.Regexp, s string) ([]string, error) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("no match for %q in %q", re, s)
	}
	return m, nil
}

func splitList(s string) []string { return strings.Split(s, ", ") }

var reARC = regexp.MustCompile(`^Which material (.+)\?$`)

func solveARC(h map[string]string, ex tasks.Example) (int, error) {
	m, err := match(reARC, ex.Prompt)
	if err != nil {
		return -1, err
	}
	clauses := strings.Split(strings.Replace(m[1], " but ", " and ", 1), " and ")
	type lit struct {
		set map[string]bool
		pos bool
	}
	var lits []lit
	for _, c := range clauses {
		found := false
		for _, p := range arcProps {
			if c == p.pos || c == p.neg {
				set := map[string]bool{}
				for _, x := range splitList(h[p.key]) {
					set[x] = true
				}
				lits = append(lits, lit{set, c == p.pos})
				found = true
			}
		}
		if !found {
			return -1, fmt.Errorf("unknown clause %q", c)
		}
	}
	return unique(len(ex.Options), func(i int) bool {
		for _, l := range lits {
			if l.set[ex.Options[i]] != l.pos {
				return false
			}
		}
		return true
	})
}

var reHS = regexp.MustCompile(`^At the \w+, \w+ (.+)\. (Next|Two steps later|Just before that), she$`)

func solveHellaSwag(h map[string]string, ex tasks.Example) (int, error) {
	m, err := match(reHS, ex.Prompt)
	if err != nil {
		return -1, err
	}
	seq := strings.Split(h["routine"], " > ")
	acts := strings.Split(m[1], ", then ")
	j := slices.Index(seq, acts[len(acts)-1])
	if j < 0 || (len(acts) == 2 && (j == 0 || seq[j-1] != acts[0])) {
		return -1, errNoUnique // the context contradicts this routine
	}
	j += map[string]int{"Next": 1, "Two steps later": 2, "Just before that": -1}[m[2]]
	if j < 0 || j >= len(seq) {
		return -1, errNoUnique
	}
	return unique(len(ex.Options), func(i int) bool { return ex.Options[i] == seq[j]+"." })
}

var (
	reBQLives = regexp.MustCompile(`(\w+) lives in the (\w+) house(?: and keeps a (\w+)| and is a (\w+))?\.`)
	reBQQ     = regexp.MustCompile(`Q: (?:does (\w+) keep a (\w+)|is (\w+) a (\w+)(?: who keeps a (\w+))?)\?$`)
	reBQAttr  = regexp.MustCompile(`^pet=(\w+), job=(\w+)$`)
)

func solveBoolQ(h map[string]string, ex tasks.Example) (int, error) {
	house := map[string]string{}
	for _, m := range reBQLives.FindAllStringSubmatch(ex.Prompt, -1) {
		house[m[1]] = m[2]
		// A stated fact must agree with the hidden table.
		a := reBQAttr.FindStringSubmatch(h[m[2]+" house"])
		if a == nil || (m[3] != "" && m[3] != a[1]) || (m[4] != "" && m[4] != a[2]) {
			return -1, fmt.Errorf("passage fact contradicts hidden %v: %q", h, m[0])
		}
	}
	q, err := match(reBQQ, ex.Prompt)
	if err != nil {
		return -1, err
	}
	who, pet, job := q[1], q[2], ""
	if who == "" {
		who, job, pet = q[3], q[4], q[5]
	}
	a, err := match(reBQAttr, h[house[who]+" house"])
	if err != nil {
		return -1, err
	}
	truth := (pet == "" || pet == a[1]) && (job == "" || job == a[2])
	want := map[bool]string{true: "True", false: "False"}[truth]
	return unique(len(ex.Options), func(i int) bool { return ex.Options[i] == want })
}

var (
	rePIQA    = regexp.MustCompile(`^How do you (.+)\?$`)
	rePIQAOpt = regexp.MustCompile(`^Use the (\w+)(?:, then the (\w+))?\.$`)
)

func solvePIQA(h map[string]string, ex tasks.Example) (int, error) {
	m, err := match(rePIQA, ex.Prompt)
	if err != nil {
		return -1, err
	}
	// Each goal needs a public property; the tools having it are hidden.
	var need [][]string
	for _, g := range strings.Split(m[1], " and then ") {
		i := slices.Index(piqaGoals, g)
		if i < 0 {
			return -1, fmt.Errorf("unknown goal %q", g)
		}
		need = append(need, splitList(h[piqaProps[piqaNeeds[i]]]))
	}
	return unique(len(ex.Options), func(i int) bool {
		o := rePIQAOpt.FindStringSubmatch(ex.Options[i])
		if o == nil {
			return false
		}
		got := []string{o[1]}
		if o[2] != "" {
			got = append(got, o[2])
		}
		if len(got) != len(need) {
			return false
		}
		for j, t := range got {
			if !slices.Contains(need[j], t) {
				return false
			}
		}
		return true
	})
}

func solveWinoGrande(h map[string]string, ex tasks.Example) (int, error) {
	s := ex.Prompt
	if strings.Count(s, "_") != 1 {
		return -1, fmt.Errorf("want one blank in %q", s)
	}
	var traits []string
	switch {
	case strings.Contains(s, "do both"):
		traits = []string{"tall", "strong"}
	case strings.Contains(s, "shelf") || strings.Contains(s, "apple"):
		traits = []string{"tall"}
	case strings.Contains(s, "rock") || strings.Contains(s, "door"):
		traits = []string{"strong"}
	case strings.Contains(s, "raced") || strings.Contains(s, "bus"):
		traits = []string{"fast"}
	case strings.Contains(s, "dog") || strings.Contains(s, "child"):
		traits = []string{"kind"}
	default:
		return -1, fmt.Errorf("unknown situation %q", s)
	}
	neg := false
	for _, cue := range []string{"could not", "lost.", "walked away", "gave up", "missed it", "walked past"} {
		neg = neg || strings.Contains(s, cue)
	}
	return unique(len(ex.Options), func(i int) bool {
		all := true
		for _, t := range traits {
			all = all && slices.Contains(splitList(h[t]), ex.Options[i])
		}
		return all != neg
	})
}

var (
	reGSMBuy   = regexp.MustCompile(`(\d+) (\w+)s\b`)
	reGSMTwice = regexp.MustCompile(`(\d+) (\w+)s and twice as many (\w+)s`)
	reGSMPay   = regexp.MustCompile(`pays with (\d+) coins`)
	reGSMClue  = regexp.MustCompile(`^An? (\w+) costs (\d+) coins\. `)
)

func solveGSM(h map[string]string, ex tasks.Example) (int, error) {
	price := func(g string) (int, bool) {
		var p int
		_, err := fmt.Sscanf(h[g], "%d coins", &p)
		return p, err == nil
	}
	if m := reGSMClue.FindStringSubmatch(ex.Prompt); m != nil {
		if p, ok := price(m[1]); !ok || strconv.Itoa(p) != m[2] {
			return -1, fmt.Errorf("stated price contradicts hidden: %q", m[0])
		}
	}
	total := 0
	if m := reGSMTwice.FindStringSubmatch(ex.Prompt); m != nil {
		a, _ := strconv.Atoi(m[1])
		p1, ok1 := price(m[2])
		p2, ok2 := price(m[3])
		if !ok1 || !ok2 {
			return -1, fmt.Errorf("unknown goods in %q", ex.Prompt)
		}
		total = a*p1 + 2*a*p2
	} else {
		for _, m := range reGSMBuy.FindAllStringSubmatch(ex.Prompt, -1) {
			if p, ok := price(m[2]); ok {
				q, _ := strconv.Atoi(m[1])
				total += q * p
			}
		}
	}
	if m := reGSMPay.FindStringSubmatch(ex.Prompt); m != nil {
		pay, _ := strconv.Atoi(m[1])
		total = pay - total
	}
	want := strconv.Itoa(total)
	return unique(len(ex.Options), func(i int) bool { return ex.Options[i] == want })
}

var (
	reMathOne   = regexp.MustCompile(`^What is (\d+) # (\d+)\?$`)
	reMathLeft  = regexp.MustCompile(`^What is \((\d+) # (\d+)\) # (\d+)\?$`)
	reMathRight = regexp.MustCompile(`^What is (\d+) # \((\d+) # (\d+)\)\?$`)
	reMathInv   = regexp.MustCompile(`^If x # (\d+) = (\d+), what is x\?$`)
	reMathGiven = regexp.MustCompile(`^If (\d+) # (\d+) = (\d+), what is (\d+) # (\d+)\?$`)
)

func solveMath(h map[string]string, ex tasks.Example) (int, error) {
	var p, q, r int
	if _, err := fmt.Sscanf(h["operator"], "a # b = %d*a + %d*b + %d", &p, &q, &r); err != nil {
		return -1, err
	}
	op := func(a, b int) int { return p*a + q*b + r }
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	var want int
	if m := reMathOne.FindStringSubmatch(ex.Prompt); m != nil {
		want = op(n(m[1]), n(m[2]))
	} else if m := reMathLeft.FindStringSubmatch(ex.Prompt); m != nil {
		want = op(op(n(m[1]), n(m[2])), n(m[3]))
	} else if m := reMathRight.FindStringSubmatch(ex.Prompt); m != nil {
		want = op(n(m[1]), op(n(m[2]), n(m[3])))
	} else if m := reMathGiven.FindStringSubmatch(ex.Prompt); m != nil {
		if op(n(m[1]), n(m[2])) != n(m[3]) {
			return -1, fmt.Errorf("worked case contradicts hidden: %q", ex.Prompt)
		}
		want = op(n(m[4]), n(m[5]))
	} else if m := reMathInv.FindStringSubmatch(ex.Prompt); m != nil {
		// Invert by search rather than algebra, to stay independent.
		want = -1
		for x := 0; x <= 100 && want < 0; x++ {
			if op(x, n(m[1])) == n(m[2]) {
				want = x
			}
		}
	} else {
		return -1, fmt.Errorf("unknown math prompt %q", ex.Prompt)
	}
	return unique(len(ex.Options), func(i int) bool { return ex.Options[i] == strconv.Itoa(want) })
}

var (
	reLogicPremise = regexp.MustCompile(`^(?:Every (\w+) is a (\w+)\. )?(\w+) is (not )?a (\w+)\. Which follows\?$`)
	reLogicOpt     = regexp.MustCompile(`^(\w+) is (not )?a (\w+)$`)
)

func solveLogic(h map[string]string, ex tasks.Example) (int, error) {
	// rank[c] = (chain, position); every x is a y iff same chain, y later.
	type at struct{ chain, pos int }
	rank := map[string]at{}
	for ci, chain := range strings.Split(h["chains"], "; ") {
		for pi, c := range strings.Split(chain, " -> ") {
			rank[c] = at{ci, pi}
		}
	}
	implies := func(x, y string) bool {
		a, ok1 := rank[x]
		b, ok2 := rank[y]
		return ok1 && ok2 && a.chain == b.chain && b.pos > a.pos
	}
	m, err := match(reLogicPremise, ex.Prompt)
	if err != nil {
		return -1, err
	}
	if m[1] != "" && !implies(m[1], m[2]) {
		return -1, fmt.Errorf("stated rule contradicts hidden: %q", ex.Prompt)
	}
	e, neg, c := m[3], m[4], m[5]
	return unique(len(ex.Options), func(i int) bool {
		o := reLogicOpt.FindStringSubmatch(ex.Options[i])
		if o == nil || o[1] != e || (o[2] == "") != (neg == "") {
			return false
		}
		if neg == "" {
			return implies(c, o[3])
		}
		return implies(o[3], c) // contrapositive
	})
}

var (
	reSocClue = regexp.MustCompile(`^\w+ ([^,]+), and (\w+) (\w+)\. (.*)$`)
	reSocFwd  = regexp.MustCompile(`^\w+ (.+)\. What will (\w+) do\?$`)
	reSocRev  = regexp.MustCompile(`^(\w+) just (\w+)\. What did \w+ do\?$`)
)

func solveSocial(h map[string]string, ex tasks.Example) (int, error) {
	base := func(past string) string {
		for _, r := range socReactions {
			if r.past == past {
				return r.base
			}
		}
		return ""
	}
	prompt := ex.Prompt
	if m := reSocClue.FindStringSubmatch(prompt); m != nil {
		sit := strings.Replace(m[1], m[2], "someone", 1)
		if got, ok := h[sit]; !ok || got != base(m[3]) {
			return -1, fmt.Errorf("observed norm contradicts hidden: %q", prompt)
		}
		prompt = m[4]
	}
	if m := reSocFwd.FindStringSubmatch(prompt); m != nil {
		for sit, react := range h {
			if strings.Replace(sit, "someone", m[2], 1) == m[1] {
				return unique(len(ex.Options), func(i int) bool { return ex.Options[i] == react })
			}
		}
		return -1, fmt.Errorf("unknown situation %q", m[1])
	}
	m, err := match(reSocRev, prompt)
	if err != nil {
		return -1, err
	}
	react := base(m[2])
	return unique(len(ex.Options), func(i int) bool {
		sit := strings.Replace(ex.Options[i], m[1], "someone", 1)
		return react != "" && h[sit] == react
	})
}

var reCodeFn = regexp.MustCompile(`^x(\+|-|\*|//|%)(\d+)$`)

func solveCode(h map[string]string, ex tasks.Example) (int, error) {
	prog, ok := strings.CutSuffix(ex.Prompt, "\nWhat does it print?")
	if !ok {
		return -1, fmt.Errorf("no question in %q", ex.Prompt)
	}
	out, err := interpret(h, prog)
	if err != nil {
		return -1, err
	}
	return unique(len(ex.Options), func(i int) bool { return ex.Options[i] == strconv.Itoa(out) })
}

// interpret runs the tiny Python subset the code suite emits: assignments,
// "for i in range(N):" with an indented body, calls, "+", and one print.
func interpret(h map[string]string, prog string) (int, error) {
	vars := map[string]int{}
	var eval func(e string) (int, error)
	eval = func(e string) (int, error) {
		if parts := strings.Split(e, " + "); len(parts) > 1 {
			s := 0
			for _, p := range parts {
				v, err := eval(p)
				if err != nil {
					return 0, err
				}
				s += v
			}
			return s, nil
		}
		if v, err := strconv.Atoi(e); err == nil {
			return v, nil
		}
		if v, ok := vars[e]; ok {
			return v, nil
		}
		name, arg, ok := strings.Cut(e, "(")
		if !ok || !strings.HasSuffix(arg, ")") {
			return 0, fmt.Errorf("bad expression %q", e)
		}
		x, err := eval(strings.TrimSuffix(arg, ")"))
		if err != nil {
			return 0, err
		}
		if h[name+"(x)"] == "x*x" {
			return x * x, nil
		}
		f := reCodeFn.FindStringSubmatch(h[name+"(x)"])
		if f == nil {
			return 0, fmt.Errorf("unknown function %q", name)
		}
		k, _ := strconv.Atoi(f[2])
		switch f[1] {
		case "+":
			return x + k, nil
		case "-":
			return x - k, nil
		case "*":
			return x * k, nil
		case "//":
			return x / k, nil // values are non-negative, so truncation == floor
		default:
			return x % k, nil
		}
	}
	printed, hasPrint := 0, false
	var exec func(lines []string) error
	exec = func(lines []string) error {
		for li := 0; li < len(lines); li++ {
			l := lines[li]
			var n int
			if _, err := fmt.Sscanf(l, "for i in range(%d):", &n); err == nil {
				var body []string
				for li+1 < len(lines) && strings.HasPrefix(lines[li+1], "    ") {
					li++
					body = append(body, strings.TrimPrefix(lines[li], "    "))
				}
				for range n {
					if err := exec(body); err != nil {
						return err
					}
				}
				continue
			}
			if a, ok := strings.CutPrefix(l, "assert "); ok {
				lhs, rhs, _ := strings.Cut(a, " == ")
				x, err1 := eval(lhs)
				y, err2 := strconv.Atoi(rhs)
				if err1 != nil || err2 != nil || x != y {
					return fmt.Errorf("assertion %q fails under hidden %v", l, h)
				}
				continue
			}
			if arg, ok := strings.CutPrefix(l, "print("); ok {
				v, err := eval(strings.TrimSuffix(arg, ")"))
				if err != nil {
					return err
				}
				printed, hasPrint = v, true
				continue
			}
			lhs, rhs, ok := strings.Cut(l, " = ")
			if !ok {
				return fmt.Errorf("bad line %q", l)
			}
			v, err := eval(rhs)
			if err != nil {
				return err
			}
			vars[lhs] = v
		}
		return nil
	}
	if err := exec(strings.Split(prog, "\n")); err != nil {
		return 0, err
	}
	if !hasPrint {
		return 0, errors.New("nothing printed")
	}
	return printed, nil
}

var reMed = regexp.MustCompile(`^A patient has (.+)\. Which diagnosis fits best\?$`)

func solveMedical(h map[string]string, ex tasks.Example) (int, error) {
	m, err := match(reMed, ex.Prompt)
	if err != nil {
		return -1, err
	}
	shown := splitList(strings.Replace(m[1], " and ", ", ", 1))
	score := make([]int, len(ex.Options))
	best := -1
	for i, d := range ex.Options {
		for _, f := range splitList(h[d]) {
			if slices.Contains(shown, f) {
				score[i]++
			}
		}
		best = max(best, score[i])
	}
	return unique(len(ex.Options), func(i int) bool { return score[i] == best })
}
