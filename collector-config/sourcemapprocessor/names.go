package sourcemapprocessor

import (
	"regexp"
	"strings"
)

// originalName is the name the frame's function has in the original
// source. An engine names the function as the minified code does, so the
// minified part (the last identifier: `a` of `HTMLButtonElement.a` or
// `new a`) is looked up where the minified code declares it, before the
// frame's position, and mapped from there: the map records the original
// identifier at a declaration. When that cannot be done for certain, the
// engine's name stays.
//
// Without the minified script (a URL prefix that serves only maps), the
// name is the nearest function declared before the frame's original
// position in the map's sourcesContent, as stacktrace-gps does it: right
// for named functions, while a callback within one takes its name.
func originalName(sm *sourceMap, f frame, src string, oline, ocol int) string {
	fn := f.function
	head := fn
	if i := strings.Index(head, " [as "); i >= 0 {
		head = head[:i]
	}
	cut := strings.LastIndexAny(head, ". ")
	prefix, ident := head[:cut+1], head[cut+1:]
	if !isIdent(ident) || keywords[ident] {
		return fn
	}
	if sm.generated == "" {
		if name := enclosingName(sm.consumer.SourceContent(src), oline, ocol); name != "" {
			return prefix + name
		}
		return fn
	}
	pos := offset(sm.generated, f.line, max(f.column-1, 0))
	if pos < 0 {
		return fn
	}
	decl := declaration(sm.generated[:pos], ident)
	if decl < 0 {
		return fn
	}
	line, col := lineCol(sm.generated, decl)
	src, name, oline, ocol, ok := sm.consumer.Source(line, col)
	if !ok {
		return fn
	}
	content := sm.consumer.SourceContent(src)
	if content == "" {
		if name == "" {
			return fn
		}
		return prefix + name
	}
	// The mapping found must be the declaration's own: the original text
	// there is the name (a neighbour's mapping would point elsewhere).
	at := identAt(content, oline, ocol)
	if at == "" || keywords[at] || (name != "" && name != at) {
		return fn
	}
	return prefix + at
}

// Up to this many lines above a frame are searched for its function.
const maxEnclosingLines = 250

var declarations = regexp.MustCompile(
	`function\*?\s+([A-Za-z_$][\w$]*)\s*\(` + // function name(
		`|([A-Za-z_$][\w$]*)\s*[:=]\s*(?:async\s+)?(?:function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)` + // name = function / (a) => / a =>
		`|^\s*(?:static\s+)?(?:async\s+)?([A-Za-z_$][\w$]*)\s*\([^()]*\)\s*\{`) // a method: name(a) {

// enclosingName is the name of the nearest function declared before
// 1-based line and 0-based column of text, or "".
func enclosingName(text string, line, column int) string {
	lines := strings.Split(text, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	for l := line - 1; l >= 0 && l >= line-maxEnclosingLines; l-- {
		s := lines[l]
		if l == line-1 && column < len(s) {
			s = s[:column]
		}
		ms := declarations.FindAllStringSubmatch(s, -1)
		for i := len(ms) - 1; i >= 0; i-- {
			for _, name := range ms[i][1:] {
				if name != "" && !keywords[name] {
					return name
				}
			}
		}
	}
	return ""
}

var keywords = map[string]bool{
	"if": true, "for": true, "while": true, "switch": true, "catch": true, "with": true,
	"function": true, "async": true, "const": true, "let": true, "var": true, "class": true,
	"return": true, "new": true, "export": true, "default": true, "static": true, "get": true, "set": true,
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z') || (!first && c >= '0' && c <= '9')
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i], i == 0) {
			return false
		}
	}
	return true
}

// offset is the byte offset of 1-based line and 0-based column in text,
// or -1.
func offset(text string, line, column int64) int {
	pos := 0
	for l := int64(1); l < line; l++ {
		i := strings.IndexByte(text[pos:], '\n')
		if i < 0 {
			return -1
		}
		pos += i + 1
	}
	end := strings.IndexByte(text[pos:], '\n')
	if end < 0 {
		end = len(text) - pos
	}
	if column > int64(end) {
		return -1
	}
	return pos + int(column)
}

// lineCol is the 1-based line and 0-based column of a byte offset.
func lineCol(text string, off int) (int, int) {
	line := 1 + strings.Count(text[:off], "\n")
	return line, off - (strings.LastIndexByte(text[:off], '\n') + 1)
}

// identAt is the identifier starting at 1-based line and 0-based column.
func identAt(text string, line, column int) string {
	pos := offset(text, int64(line), int64(column))
	if pos < 0 {
		return ""
	}
	end := pos
	for end < len(text) && isIdentByte(text[end], end == pos) {
		end++
	}
	return text[pos:end]
}

// declaration is the offset of the last place in code that declares
// ident: `function ident(` or `ident=` (an assignment of a function
// expression or an arrow), or -1.
func declaration(code, ident string) int {
	best := -1
	for i := len(code) - len(ident); i >= 0; i-- {
		if !strings.HasPrefix(code[i:], ident) {
			continue
		}
		if i > 0 && (isIdentByte(code[i-1], false) || code[i-1] == '.') {
			continue
		}
		after := code[i+len(ident):]
		after = strings.TrimLeft(after, " ")
		if after == "" || isIdentByte(after[0], false) {
			continue
		}
		before := strings.TrimRight(code[:i], " ")
		switch {
		case strings.HasSuffix(before, "function") || strings.HasSuffix(before, "function*"):
			if after[0] == '(' {
				best = i
			}
		case after[0] == '=' && !strings.HasPrefix(after, "==") && !strings.HasPrefix(after, "=>"):
			best = i
		}
		if best >= 0 {
			return best
		}
	}
	return best
}
