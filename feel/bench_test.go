package feel

import (
	"strconv"
	"testing"
	"time"
)

// benchScope has ten variables, as the benchmark asks.
func benchScope() MapScope {
	s := MapScope{
		"amount": Int(250),
		"status": String("ok"),
	}
	for i := range 8 {
		s["var"+strconv.Itoa(i)] = Int(int64(i))
	}
	order, err := FromJSON([]byte(`{"id": "A-1", "items": [{"sku": "x", "price": 12.5, "qty": 2}, {"sku": "y", "price": 3, "qty": 1}]}`))
	if err != nil {
		panic(err)
	}
	s["order"] = order
	return s
}

func benchEval(b *testing.B, src string, want string) {
	e := MustCompile(src)
	env := Env{Vars: benchScope(), Now: time.Date(2024, 5, 17, 10, 0, 0, 0, time.UTC)}
	v, err := e.Eval(env)
	if err != nil || v.String() != want {
		b.Fatalf("%s = %v, %v; want %s", src, v, err, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCondition is the target: ≤ 250 ns/op, ≤ 2 allocs/op.
func BenchmarkCondition(b *testing.B) {
	benchEval(b, `amount > 100 and status = "ok"`, "true")
}

// BenchmarkPath is the target: ≤ 500 ns/op.
func BenchmarkPath(b *testing.B) {
	benchEval(b, `order.items[1].price * 2`, "25.0")
}

func BenchmarkEvalBool(b *testing.B) {
	e := MustCompile(`amount > 100 and status = "ok"`)
	env := Env{Vars: benchScope()}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := e.EvalBool(env); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkFilterSum(b *testing.B) {
	benchEval(b, `sum(order.items[price > 1].price)`, "15.5")
}

func BenchmarkFor(b *testing.B) {
	benchEval(b, `for i in 1..100 return i * i`, MustCompile(`for i in 1..100 return i * i`).mustEvalB(b).String())
}

func BenchmarkDateArithmetic(b *testing.B) {
	benchEval(b, `date("2024-01-31") + duration("P1M") < today()`, "true")
}

func BenchmarkStringFunctions(b *testing.B) {
	benchEval(b, `upper case(substring(order.id, 1, 1)) + string(amount)`, `"A250"`)
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(`if order.items[price > 10 and qty >= 2] != [] then "big" else "small"`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromJSON(b *testing.B) {
	doc := []byte(`{"id": "A-1", "customer": {"name": "Ann", "vip": true}, "items": [{"sku": "x", "price": 12.5, "qty": 2}, {"sku": "y", "price": 3, "qty": 1}]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := FromJSON(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func (e *Expression) mustEvalB(b *testing.B) Value {
	v, err := e.Eval(Env{})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkConditionJSONScope reads the variables from JSON documents, as
// the engine stores them: each lookup decodes its document.
func BenchmarkConditionJSONScope(b *testing.B) {
	e := MustCompile(`amount > 100 and status = "ok"`)
	vars := JSONScope{"amount": []byte(`250`), "status": []byte(`"ok"`)}
	for i := range 8 {
		vars["var"+strconv.Itoa(i)] = []byte(strconv.Itoa(i))
	}
	env := Env{Vars: vars}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := e.EvalBool(env); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
