package feel_test

import (
	"encoding/json"
	"fmt"
	"time"

	"eddy/feel"
)

func ExampleCompile() {
	e, err := feel.Compile(`order.items[price > 10].sku`)
	if err != nil {
		panic(err)
	}
	order, _ := feel.FromJSON([]byte(`{"items": [{"sku": "a", "price": 12.5}, {"sku": "b", "price": 3}]}`))
	v, err := e.Evaluate(feel.MapScope{"order": order})
	fmt.Println(v, err, e.Vars()) // price may be a variable as well as a key of the items
	// Output: ["a"] <nil> [order price]
}

func ExampleCompile_error() {
	_, err := feel.Compile(`amount > 100 and`)
	fmt.Println(err)
	// Output: 1:17: expected expression after "and"
}

func ExampleExpression_EvalBool() {
	e := feel.MustCompile(`x > 1000000`)
	ok, err := e.EvalBool(feel.Env{Vars: feel.JSONScope{"y": json.RawMessage(`1`)}})
	fmt.Println(ok, err)
	// Output: false 1:1: condition evaluated to null, not a boolean: no variable found for name "x"
}

func ExampleEnv_now() {
	e := feel.MustCompile(`today() + duration("P1M")`)
	v, _ := e.Eval(feel.Env{Now: time.Date(2024, 1, 31, 9, 0, 0, 0, time.UTC)})
	fmt.Println(v)
	// Output: @"2024-02-29"
}

func ExampleCompileUnaryTests() {
	u := feel.MustCompileUnaryTests(`< 10, [20..30]`)
	for _, n := range []int64{5, 15, 25} {
		ok, _ := u.Match(feel.Int(n), feel.Env{})
		fmt.Println(n, ok)
	}
	// Output:
	// 5 true
	// 15 false
	// 25 true
}
