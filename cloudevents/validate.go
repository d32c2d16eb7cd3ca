package cloudevents

// Validate checks e against the specification (see the package comment)
// and returns the first problem found as an *Error (Status 400, Index -1,
// Where empty), or nil. Optional attributes that are "" are absent.
func (e *Event) Validate() error {
	if err := e.validate(); err != nil {
		return err
	}
	return nil
}

// validate is Validate returning the concrete type, so that decoders can
// add where they read the attribute.
func (e *Event) validate() *Error {
	switch {
	case e.SpecVersion == "":
		return badAttr("specversion", "", "required, and missing")
	case e.SpecVersion != SpecVersion:
		return badAttr("specversion", "", "%q is not supported: Eddy reads CloudEvents %s", e.SpecVersion, SpecVersion)
	case e.ID == "":
		return badAttr("id", "", "required, and missing or empty")
	case e.Source == "":
		return badAttr("source", "", "required, and missing or empty")
	case e.Type == "":
		return badAttr("type", "", "required, and missing or empty")
	}
	if msg := checkString(e.ID); msg != "" {
		return badAttr("id", "", "%s", msg)
	}
	if msg := checkURIRef(e.Source); msg != "" {
		return badAttr("source", "", "%q is not a URI-reference: %s", e.Source, msg)
	}
	if msg := checkString(e.Type); msg != "" {
		return badAttr("type", "", "%s", msg)
	}
	if e.DataContentType != "" {
		if msg := checkMediaType(e.DataContentType); msg != "" {
			return badAttr("datacontenttype", "", "%q is not an RFC 2046 media type: %s", e.DataContentType, msg)
		}
	}
	if e.DataSchema != "" {
		if msg := checkURI(e.DataSchema); msg != "" {
			return badAttr("dataschema", "", "%q is not an absolute URI: %s", e.DataSchema, msg)
		}
	}
	if e.Subject != "" {
		if msg := checkString(e.Subject); msg != "" {
			return badAttr("subject", "", "%s", msg)
		}
	}
	if e.Time != "" {
		if _, msg := parseTimestamp(e.Time); msg != "" {
			return badAttr("time", "", "%q is not an RFC 3339 timestamp: %s", e.Time, msg)
		}
	}
	for i, x := range e.Extensions {
		if i > 0 && e.Extensions[i-1].Name >= x.Name {
			if e.Extensions[i-1].Name == x.Name {
				return badAttr(x.Name, "", "appears twice")
			}
			return badAttr(x.Name, "", "extensions must be sorted by name (use SetExtension)")
		}
		if err := checkExtension(x); err != nil {
			return err
		}
	}
	return nil
}

// checkExtension checks one extension's name and value (not its order).
func checkExtension(x Extension) *Error {
	if msg := CheckName(x.Name); msg != "" {
		return badAttr(x.Name, "", "%s", msg)
	}
	if isReservedName(x.Name) {
		return badAttr(x.Name, "", "%q is a reserved name, not an extension", x.Name)
	}
	if want, ok := knownExtensions[x.Name]; ok && want != x.Value.Type {
		return badAttr(x.Name, "", "the %s extension is %s, not %s", x.Name, want.withArticle(), x.Value.Type.withArticle())
	}
	if msg := x.Value.check(); msg != "" {
		return badAttr(x.Name, "", "%q is not a valid %s: %s", x.Value.Text, x.Value.Type, msg)
	}
	return nil
}

// isReservedName reports names that cannot be extensions: the core
// attributes, and the members the JSON format reserves for data.
func isReservedName(name string) bool {
	switch name {
	case "id", "source", "specversion", "type", "datacontenttype", "dataschema", "subject", "time", "data", "data_base64":
		return true
	}
	return false
}

// typedExtension returns the extension with the type the spec gives it:
// a String value of a known non-String extension takes the known type (its
// text is then checked against that type by checkExtension).
func typedExtension(name string, v Value) Value {
	if want, ok := knownExtensions[name]; ok && v.Type == TypeString {
		v.Type = want
	}
	return v
}
