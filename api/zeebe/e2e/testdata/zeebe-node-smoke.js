// A smoke test of Eddy's Zeebe gateway with the Node.js client zeebe-node:
// deploy a model, run a worker, create an instance with its result. It
// prints the result as one JSON line; any failure exits non-zero.
const { ZBClient } = require('zeebe-node')

async function main() {
  const [address, model] = process.argv.slice(2)
  const zbc = new ZBClient(address, { useTLS: false, loglevel: 'NONE' })
  try {
    const topology = await zbc.topology()
    const deployed = await zbc.deployResource({ processFilename: model })
    const worker = zbc.createWorker({
      taskType: 'charge-card',
      taskHandler: job => job.complete({ charged: job.variables.amount * 2, currency: job.customHeaders.currency }),
      timeout: 60000,
    })
    const result = await zbc.createProcessInstanceWithResult({
      bpmnProcessId: 'charge',
      variables: { amount: 21 },
      requestTimeout: 30000,
    })
    await worker.close()
    console.log(JSON.stringify({
      partitions: topology.partitionsCount,
      process: deployed.deployments[0].process.bpmnProcessId,
      result,
    }))
  } finally {
    await zbc.close()
  }
}

main().catch(err => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
