package main

// Timer dates and FEEL temporals may name a time zone; the binary carries
// its own zone database so that they mean the same on every machine.
import _ "time/tzdata"
