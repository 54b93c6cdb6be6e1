// PostGraphile 5 declares Node >= 22 and calls Promise.withResolvers (new in Node 22). On the
// Node 20 our machines have, define it exactly as specified before PostGraphile loads
// (`node --import ./node20.mjs`); on Node 22 this does nothing.
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
