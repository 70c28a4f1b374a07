# meshd, built from this repository: `docker build -t meshd:dev .`
# Runs as the image's `node` user (uid 1000); the Envoys in docker-compose.envoy.yml run with the
# same uid (ENVOY_UID=1000) so they can open the 0600 SDS socket meshd creates.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Scripts wait for the sources (`prepare` builds); dev dependencies are needed to build.
RUN npm ci --include=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY scripts ./scripts
COPY examples ./examples
RUN npx tsc -p tsconfig.json && node scripts/extract-api-model.js \
 && mkdir -p /var/lib/meshd /var/lib/meshd-bootstrap /run/meshd /etc/meshd \
 && chown node:node /var/lib/meshd /var/lib/meshd-bootstrap /run/meshd \
 && chmod 0700 /var/lib/meshd /run/meshd
USER node
ENV APPMESH_SDS_SOCKET_PATH=/run/meshd/sds.sock
EXPOSE 18000
ENTRYPOINT ["node", "bin/meshd.js"]
CMD ["serve", "--config", "/etc/meshd/mesh", "--xds", "0.0.0.0:18000", "--state-dir", "/var/lib/meshd"]
