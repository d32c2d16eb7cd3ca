package bpmn

// XML namespaces of the documents Camunda Modeler writes.
const (
	nsBPMN    = "http://www.omg.org/spec/BPMN/20100524/MODEL"
	nsBPMNDI  = "http://www.omg.org/spec/BPMN/20100524/DI"
	nsDC      = "http://www.omg.org/spec/DD/20100524/DC"
	nsDI      = "http://www.omg.org/spec/DD/20100524/DI"
	nsZeebe   = "http://camunda.org/schema/zeebe/1.0"
	nsModeler = "http://camunda.org/schema/modeler/1.0"
)
