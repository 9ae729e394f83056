#!/usr/bin/env bash
# archcheck.sh: checks that ARCHITECTURE.md names only what exists.
#   1. every `pkg.Name` / `Type.Method` / CamelCase name in a code span is declared in a .go file
#      (a component that is a package is a directory of that name);
#   2. every file or directory path it names exists;
#   3. every `func` line in its code blocks is, verbatim, a line of `go doc -all` of some package;
#   4. the import-direction rules of "Import direction" hold on `go list -deps`.
# Run from the repository root: GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd docs/archcheck.sh
set -u
doc=ARCHITECTURE.md
mod=github.com/degaml/workbench
fail=0
bad() { echo "MISSING: $*"; fail=1; }

gofiles=$(git ls-files '*.go')
declared() { # a declaration of $1 in some Go file: func, method, type, var/const, struct field or const group
	grep -qE "^(func (\([^)]*\) )?$1[[(]|type $1\b|(var|const) $1\b|[[:space:]]+$1(,|$|[[:space:]]+[^=[:space:]]|[[:space:]]*=)|([[:space:]]+|.*struct\{ )([A-Za-z0-9_]+, )+$1[, ])" $gofiles
}
isdir() { find . -path ./.git -prune -o -type d -name "$1" -print | grep -q .; }

# Code spans outside code blocks.
spans=$(awk '/^```/{c=!c; next} !c' "$doc" | grep -oE '`[^`]+`' | tr -d '`')
n=0
# 1. Go names: dotted chains and CamelCase words.
for tok in $(printf '%s\n' "$spans" | grep -oE '\b[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+\b|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b' | sort -u); do
	case "$tok" in
	*.go | *.md | *.toml | *.json | *.jsonl | *.yaml | *.png | *.sh) continue ;;
	*_*) continue ;; # Hugging Face tensor names (model.layers.0.self_attn.q_proj.weight), not Go
	# Other modules' names (Bubble Tea, GoMLX, the standard library): not this tree's to declare.
	tea.* | graph.* | tensors.* | time.* | github.* | DynamicUpdateSlice | LessOrEqual) continue ;;
	esac
	IFS=. read -ra parts <<<"$tok"
	for p in "${parts[@]}"; do
		n=$((n + 1))
		declared "$p" || isdir "$p" || bad "identifier $p (in \`$tok\`)"
	done
done
# Lower-case names written as calls, e.g. `ensure` or `handleKey`: the words followed by "(" or standing alone
# as one identifier in a span are checked too.
for tok in $(printf '%s\n' "$spans" | grep -xE '[a-z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*' | sort -u); do
	n=$((n + 1))
	declared "$tok" || bad "identifier $tok"
done
# 2. Paths.
for p in $(printf '%s\n' "$spans" | grep -oE '(\.\./)?\b[A-Za-z0-9_/-]+(\.[a-z]+)?' | grep -E '\.(go|md|toml|yaml|sh)$|^(core|tui|tasks|models|internal|themes|deploy|docs)/' | sort -u); do
	n=$((n + 1))
	if [[ "$p" == */* ]]; then
		[ -e "$p" ] || bad "path $p"
	else
		git ls-files | grep -qE "(^|/)$p\$" || bad "file $p"
	fi
done
# Directories of the package map.
for p in $(awk '/^## Packages/{s=1} s&&/^```/{c++; next} s&&c==1' "$doc" | awk '/^[^[:space:]]/{print $1}'); do
	n=$((n + 1))
	[ -e "$p" ] || bad "package path $p"
done
# 3. Signatures in code blocks.
all=$(mktemp)
trap 'rm -f "$all"' EXIT
for p in $(go list ./...); do go doc -all "$p" 2>/dev/null; done | sed 's/^[[:space:]]*//' >"$all"
while IFS= read -r line; do
	n=$((n + 1))
	grep -qxF -- "$line" "$all" || bad "signature: $line"
done < <(awk '/^```/{c=!c; next} c' "$doc" | sed 's/^[[:space:]]*//' | grep -E '^func ')

# 4. Import direction.
deps() { # the module's packages $1 depends on, itself excluded
	local self; self=$(go list "$1")
	go list -deps "$1" 2>/dev/null | grep "^$mod" | grep -vxF "$self"
}
rule() { # rule NAME PKGS... -- FORBIDDEN-REGEX
	local name=$1; shift
	local pk=() ; while [ "$1" != -- ]; do pk+=("$1"); shift; done; shift
	n=$((n + 1))
	local hit; hit=$(for p in $(go list "${pk[@]}"); do deps "$p" | grep -E "$1" | sed "s#^#$p -> #"; done)
	[ -z "$hit" ] || bad "import rule '$name':"$'\n'"$hit"
}
rule "models and tasks are leaves" ./models/... ./tasks/... -- "^$mod/(core|tui|internal/cli)"
rule "tasks does not import models" ./tasks/... -- "^$mod/models"
rule "helpers import nothing of the module" ./internal/atomicfile ./internal/applog ./internal/tomlpos ./internal/procstat ./core/events ./core/sched ./core/engine -- "^$mod/(core|tui|models|tasks|internal)"
rule "core/api imports only core/events" ./core/api -- "^$mod/(core/(pipeline|meta|train|bench|config|sched|engine)|models|tasks|tui|internal)"
rule "core never imports a front end" ./core/... -- "^$mod/(tui|internal/cli)"
rule "tui reaches core only through api and events" $(go list ./tui/... | grep -v /serve$) -- "^$mod/(core/(pipeline|meta|train|bench|config|sched|engine)|models)"
rule "tui/serve adds only core/sched" ./tui/serve -- "^$mod/(core/(pipeline|meta|train|bench|config|engine)|models)"
rule "core/meta imports no method package" ./core/meta -- "^$mod/core/meta/(lora|maml|abmll|degaml|methods)"
for m in lora maml abmll degaml; do
	rule "core/meta/$m imports no other method" ./core/meta/$m -- "^$mod/core/meta/(lora|maml|abmll|degaml|methods)$"
done
rule "core/train does not import core/meta" ./core/train -- "^$mod/core/meta"

if [ $fail = 0 ]; then echo "archcheck: ok ($n checks)"; fi
exit $fail
