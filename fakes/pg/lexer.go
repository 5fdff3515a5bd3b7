package pg

import (
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tkEOF    tokKind = iota
	tkIdent          // bare word, lower-cased
	tkQIdent         // "quoted identifier", as written
	tkString         // 'literal' with quotes resolved
	tkNumber
	tkParam // $n
	tkOp    // punctuation and operators: ( ) , ; = * . :: and the like
)

// token is one lexeme; pos is its byte offset in the statement text.
type token struct {
	kind tokKind
	text string
	pos  int
	n    int // a parameter's number
}

func (t token) is(word string) bool { return t.kind == tkIdent && t.text == word }
func (t token) op(s string) bool    { return t.kind == tkOp && t.text == s }

// lex splits SQL into tokens the way PostgreSQL's scanner does for the
// subset the fake speaks: comments, quoted strings and identifiers,
// dollar quotes, numbers, $n parameters and punctuation.
func lex(sql string) ([]token, *pgError) {
	var toks []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth, j := 0, i
			for j < len(sql) {
				if strings.HasPrefix(sql[j:], "/*") {
					depth, j = depth+1, j+2
				} else if strings.HasPrefix(sql[j:], "*/") {
					depth, j = depth-1, j+2
					if depth == 0 {
						break
					}
				} else {
					j++
				}
			}
			if depth != 0 {
				return nil, &pgError{code: "42601", msg: "unterminated /* comment at or near \"" + trunc(sql[i:]) + "\"", position: int32(i + 1)}
			}
			i = j
		case c == '\'' || ((c == 'e' || c == 'E') && i+1 < len(sql) && sql[i+1] == '\''):
			start := i
			escapes := c != '\''
			if escapes {
				i++
			}
			s, n, ok := quoted(sql[i:], '\'', escapes)
			if !ok {
				return nil, &pgError{code: "42601", msg: "unterminated quoted string at or near \"" + trunc(sql[start:]) + "\"", position: int32(start + 1)}
			}
			toks = append(toks, token{kind: tkString, text: s, pos: start})
			i += n
		case c == '"':
			s, n, ok := quoted(sql[i:], '"', false)
			if !ok {
				return nil, &pgError{code: "42601", msg: "unterminated quoted identifier at or near \"" + trunc(sql[i:]) + "\"", position: int32(i + 1)}
			}
			toks = append(toks, token{kind: tkQIdent, text: s, pos: i})
			i += n
		case c == '$' && i+1 < len(sql) && isDigit(sql[i+1]):
			j := i + 1
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
			n, err := strconv.Atoi(sql[i+1 : j])
			if err != nil || n > 65535 {
				return nil, &pgError{code: "42P02", msg: "there is no parameter " + sql[i:j], position: int32(i + 1)}
			}
			toks = append(toks, token{kind: tkParam, text: sql[i:j], pos: i, n: n})
			i = j
		case c == '$':
			// Dollar quoting: $tag$ ... $tag$.
			j := i + 1
			for j < len(sql) && isIdentChar(sql[j]) {
				j++
			}
			if j >= len(sql) || sql[j] != '$' {
				return nil, errSyntax("$", i)
			}
			tag := sql[i : j+1]
			end := strings.Index(sql[j+1:], tag)
			if end < 0 {
				return nil, &pgError{code: "42601", msg: "unterminated dollar-quoted string at or near \"" + trunc(sql[i:]) + "\"", position: int32(i + 1)}
			}
			toks = append(toks, token{kind: tkString, text: sql[j+1 : j+1+end], pos: i})
			i = j + 1 + end + len(tag)
		case isDigit(c) || (c == '.' && i+1 < len(sql) && isDigit(sql[i+1])):
			j := i
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
			if j < len(sql) && sql[j] == '.' && !(j+1 < len(sql) && sql[j+1] == '.') {
				j++
				for j < len(sql) && isDigit(sql[j]) {
					j++
				}
			}
			if j < len(sql) && (sql[j] == 'e' || sql[j] == 'E') {
				k := j + 1
				if k < len(sql) && (sql[k] == '+' || sql[k] == '-') {
					k++
				}
				if k < len(sql) && isDigit(sql[k]) {
					for k < len(sql) && isDigit(sql[k]) {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{kind: tkNumber, text: sql[i:j], pos: i})
			i = j
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentChar(sql[j]) {
				j++
			}
			toks = append(toks, token{kind: tkIdent, text: strings.ToLower(sql[i:j]), pos: i})
			i = j
		case c == ':' && i+1 < len(sql) && sql[i+1] == ':':
			toks = append(toks, token{kind: tkOp, text: "::", pos: i})
			i += 2
		case strings.IndexByte("<>!=", c) >= 0 && i+1 < len(sql) && sql[i+1] == '=',
			c == '<' && i+1 < len(sql) && sql[i+1] == '>',
			c == '|' && i+1 < len(sql) && sql[i+1] == '|':
			toks = append(toks, token{kind: tkOp, text: sql[i : i+2], pos: i})
			i += 2
		default:
			toks = append(toks, token{kind: tkOp, text: sql[i : i+1], pos: i})
			i++
		}
	}
	return append(toks, token{kind: tkEOF, pos: len(sql)}), nil
}

// quoted reads a quoted string starting at s[0] == q, with doubled quotes
// (and, for strings with the E prefix, backslash escapes); it returns the
// content and the bytes consumed.
func quoted(s string, q byte, escapes bool) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case c == q:
			return b.String(), i + 1, true
		case escapes && c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80 }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '$' }

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

// split cuts a Query message into its statements at top-level semicolons,
// keeping each statement's text and tokens.
func split(sql string) ([]rawStatement, *pgError) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	var out []rawStatement
	start := 0
	for i, t := range toks {
		if t.kind != tkEOF && !t.op(";") {
			continue
		}
		if i > start {
			first, end := toks[start].pos, t.pos
			body := append(toks[start:i:i], token{kind: tkEOF, pos: end})
			// Positions become relative to the statement's own text.
			rel := make([]token, len(body))
			for k, tk := range body {
				tk.pos -= first
				rel[k] = tk
			}
			out = append(out, rawStatement{sql: strings.TrimSpace(sql[first:end]), toks: rel})
		}
		start = i + 1
	}
	return out, nil
}

// rawStatement is one statement's text and tokens, not yet recognized.
type rawStatement struct {
	sql  string
	toks []token
}
