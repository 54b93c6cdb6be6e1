// Serves the preset on 127.0.0.1:$PORT/graphql in the foreground, printing one line once the
// schema is built and the port is listening. Started by ./start.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
await pgl.getSchema();
const server = createServer();
server.on("error", (error) => {
  console.error(`postgraphile: ${error.message}`);
  process.exit(1);
});
await serv.addTo(server);
const { host, port } = preset.grafserv;
server.listen(port, host, () => {
  console.log(`postgraphile ready on http://${host}:${port}/graphql`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    pgl.release().finally(() => process.exit(0));
  });
}
