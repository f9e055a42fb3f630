# SPDX-License-Identifier: Apache-2.0
"""The ECR and Secrets Manager operations the emulator implements.

Each operation takes the validated request parameters and returns the
response document, or raises ApiError with the error code and message the
service returns. Parameters have already passed the model checks in
validation.py, so only rules the model cannot express are checked here.

Images are read from the backing registry's storage (storage.py), so
ListImages and DescribeImages see exactly what was pushed through the data
plane, including the untagged child manifests of an index, as ECR does.
"""

import base64
import binascii
import dataclasses
import json
import re
import secrets
import time
import uuid

from . import lifecycle
from .state import MUTABLE, Repository, Secret

DEFAULT_PAGE_SIZE = 100
MAX_TAGS = 50
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPOSITORY_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecr:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):repository/(?P<name>.+)$")


class ApiError(Exception):
    """An error response: code (`__type`), message and HTTP status."""

    def __init__(self, error_type, message, status=400):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.status = status


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """Who sent a request and for which region."""
    access_key_id: str
    region: str


def _epoch(seconds):
    # JSON 1.1 timestamps are epoch seconds, sent here with millisecond precision.
    return round(seconds, 3)


def _invalid_parameter(message):
    return ApiError("InvalidParameterException", message)


def _encode_next_token(operation, scope, offset):
    document = json.dumps({"operation": operation, "scope": scope, "offset": offset})
    return base64.urlsafe_b64encode(document.encode("utf-8")).decode("ascii")


def _decode_next_token(token, operation, scope):
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        offset = document["offset"]
        valid = (document["operation"] == operation and document["scope"] == scope
                 and isinstance(offset, int) and offset >= 0)
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        valid = False
    if not valid:
        raise _invalid_parameter(f"Invalid parameter at 'nextToken': the token '{token[:40]}' "
                                 f"was not returned by {operation} for this request")
    return offset


def paginate(items, params, operation, scope=""):
    """Return (page, nextToken or None) for maxResults and nextToken in params."""
    offset = 0
    if params.get("nextToken"):
        offset = _decode_next_token(params["nextToken"], operation, scope)
    size = params.get("maxResults", DEFAULT_PAGE_SIZE)
    page = items[offset:offset + size]
    end = offset + len(page)
    next_token = _encode_next_token(operation, scope, end) if end < len(items) else None
    return page, next_token


def _with_next_token(result, next_token):
    if next_token is not None:
        result["nextToken"] = next_token
    return result


def _image_id_text(image_id):
    return (f"{{imageDigest:'{image_id.get('imageDigest', 'null')}', "
            f"imageTag:'{image_id.get('imageTag', 'null')}'}}")


def _failure(image_id, code, reason):
    return {"imageId": image_id, "failureCode": code, "failureReason": reason}


class EcrOperations:
    """ECR operations over an EmulatorState and the backing registry's storage."""

    def __init__(self, state, storage, proxy_endpoint):
        self.state = state
        self.storage = storage
        # Called for every GetAuthorizationToken: the data plane's URL.
        self.proxy_endpoint = proxy_endpoint

    # Helpers.

    def _check_registry_id(self, params):
        registry_id = params.get("registryId")
        if registry_id is not None and registry_id != self.state.account_id:
            raise ApiError("RepositoryNotFoundException",
                           f"The registry with id '{registry_id}' is not the emulated registry "
                           f"'{self.state.account_id}'")

    def _not_found(self, name):
        return ApiError("RepositoryNotFoundException",
                        f"The repository with name '{name}' does not exist in the registry "
                        f"with id '{self.state.account_id}'")

    def _repository(self, params):
        self._check_registry_id(params)
        repository = self.state.repository(params["repositoryName"])
        if repository is None:
            raise self._not_found(params["repositoryName"])
        return repository

    def repository_arn(self, repository):
        return (f"arn:aws:ecr:{repository.region}:{self.state.account_id}:"
                f"repository/{repository.name}")

    def repository_uri(self, repository):
        host = f"{self.state.account_id}.dkr.ecr.{repository.region}.amazonaws.com"
        return f"{host}/{repository.name}"

    def describe_repository(self, repository):
        encryption = {"encryptionType": repository.encryption_type}
        if repository.kms_key:
            encryption["kmsKey"] = repository.kms_key
        return {
            "repositoryArn": self.repository_arn(repository),
            "registryId": self.state.account_id,
            "repositoryName": repository.name,
            "repositoryUri": self.repository_uri(repository),
            "createdAt": _epoch(repository.created_at),
            "imageTagMutability": repository.image_tag_mutability,
            "imageScanningConfiguration": {"scanOnPush": repository.scan_on_push},
            "encryptionConfiguration": encryption,
        }

    @staticmethod
    def _tag_map(tag_list):
        tags = {}
        for tag in tag_list:
            if "Key" not in tag or "Value" not in tag:
                raise ApiError("InvalidTagParameterException",
                               f"every tag needs a Key and a Value, got {tag}")
            tags[tag["Key"]] = tag["Value"]
        return tags

    def _repository_for_arn(self, arn):
        match = _REPOSITORY_ARN.match(arn)
        if match is None:
            raise _invalid_parameter(f"Invalid parameter at 'resourceArn': '{arn}' is not an "
                                     "ECR repository ARN")
        repository = self.state.repository(match.group("name"))
        if (repository is None or match.group("account") != self.state.account_id
                or match.group("region") != repository.region):
            raise ApiError("RepositoryNotFoundException",
                           f"The repository with ARN '{arn}' does not exist")
        return repository

    # Authorization.

    def GetAuthorizationToken(self, context, params):
        registry_ids = params.get("registryIds") or [self.state.account_id]
        data = []
        for _ in registry_ids:
            password, expires_at = self.state.issue_password()
            token = base64.b64encode(f"AWS:{password}".encode("ascii")).decode("ascii")
            data.append({"authorizationToken": token, "expiresAt": _epoch(expires_at),
                         "proxyEndpoint": self.proxy_endpoint()})
        return {"authorizationData": data}

    # Repositories.

    def CreateRepository(self, context, params):
        registry_id = params.get("registryId")
        if registry_id is not None and registry_id != self.state.account_id:
            raise _invalid_parameter(f"Invalid parameter at 'registryId': '{registry_id}' is "
                                     f"not the caller's account '{self.state.account_id}'")
        encryption = params.get("encryptionConfiguration") or {"encryptionType": "AES256"}
        kms_key = encryption.get("kmsKey")
        if encryption["encryptionType"] == "AES256" and kms_key is not None:
            raise _invalid_parameter("Invalid parameter at 'encryptionConfiguration': kmsKey "
                                     "can only be specified with encryptionType KMS")
        if encryption["encryptionType"] == "KMS" and kms_key is None:
            # Without a key ECR uses the AWS managed key for ECR.
            kms_key = f"arn:aws:kms:{context.region}:{self.state.account_id}:alias/aws/ecr"
        tags = self._tag_map(params.get("tags", []))
        if len(tags) > MAX_TAGS:
            raise ApiError("TooManyTagsException",
                           f"a repository can have at most {MAX_TAGS} tags, got {len(tags)}")

        repository = Repository(
            name=params["repositoryName"],
            region=context.region,
            created_at=time.time(),
            image_tag_mutability=params.get("imageTagMutability", MUTABLE),
            scan_on_push=params.get("imageScanningConfiguration", {}).get("scanOnPush", False),
            encryption_type=encryption["encryptionType"],
            kms_key=kms_key,
            tags=tags)
        if not self.state.add_repository(repository):
            raise ApiError("RepositoryAlreadyExistsException",
                           f"The repository with name '{repository.name}' already exists in "
                           f"the registry with id '{self.state.account_id}'")
        return {"repository": self.describe_repository(repository)}

    def DescribeRepositories(self, context, params):
        self._check_registry_id(params)
        names = params.get("repositoryNames")
        if names is not None:
            if "maxResults" in params or "nextToken" in params:
                raise _invalid_parameter("maxResults and nextToken cannot be used together "
                                         "with repositoryNames")
            found = []
            for name in dict.fromkeys(names):
                repository = self.state.repository(name)
                if repository is None:
                    raise self._not_found(name)
                found.append(self.describe_repository(repository))
            return {"repositories": found}
        repositories = [self.describe_repository(repository)
                        for repository in self.state.repositories()]
        page, next_token = paginate(repositories, params, "DescribeRepositories")
        return _with_next_token({"repositories": page}, next_token)

    def DeleteRepository(self, context, params):
        repository = self._repository(params)
        if self.storage.manifest_digests(repository.name) and not params.get("force", False):
            raise ApiError("RepositoryNotEmptyException",
                           f"The repository with name '{repository.name}' in registry with id "
                           f"'{self.state.account_id}' cannot be deleted because it still "
                           "contains images")
        self.state.remove_repository(repository.name)
        self.storage.delete_repository(repository.name)
        return {"repository": self.describe_repository(repository)}

    def PutImageTagMutability(self, context, params):
        repository = self._repository(params)
        self.state.update_repository(repository.name,
                                     image_tag_mutability=params["imageTagMutability"])
        return {"registryId": self.state.account_id, "repositoryName": repository.name,
                "imageTagMutability": params["imageTagMutability"]}

    def PutImageScanningConfiguration(self, context, params):
        repository = self._repository(params)
        scan_on_push = params["imageScanningConfiguration"].get("scanOnPush", False)
        self.state.update_repository(repository.name, scan_on_push=scan_on_push)
        return {"registryId": self.state.account_id, "repositoryName": repository.name,
                "imageScanningConfiguration": {"scanOnPush": scan_on_push}}

    # Lifecycle policies.

    def PutLifecyclePolicy(self, context, params):
        repository = self._repository(params)
        text = params["lifecyclePolicyText"]
        try:
            lifecycle.check_policy(text)
        except lifecycle.PolicyError as error:
            raise _invalid_parameter(
                "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
                f"'Lifecycle policy validation failure: {error}'") from None
        self.state.update_repository(repository.name, lifecycle_policy=text,
                                     lifecycle_policy_evaluated_at=time.time())
        return {"registryId": self.state.account_id, "repositoryName": repository.name,
                "lifecyclePolicyText": text}

    def _lifecycle_policy(self, params):
        repository = self._repository(params)
        if repository.lifecycle_policy is None:
            raise ApiError("LifecyclePolicyNotFoundException",
                           f"Lifecycle policy does not exist for the repository with name "
                           f"'{repository.name}' in the registry with id "
                           f"'{self.state.account_id}'")
        return repository, {"registryId": self.state.account_id,
                            "repositoryName": repository.name,
                            "lifecyclePolicyText": repository.lifecycle_policy,
                            "lastEvaluatedAt": _epoch(repository.lifecycle_policy_evaluated_at)}

    def GetLifecyclePolicy(self, context, params):
        _, result = self._lifecycle_policy(params)
        return result

    def DeleteLifecyclePolicy(self, context, params):
        repository, result = self._lifecycle_policy(params)
        self.state.update_repository(repository.name, lifecycle_policy=None,
                                     lifecycle_policy_evaluated_at=None)
        return result

    # Resource tags.

    def TagResource(self, context, params):
        repository = self._repository_for_arn(params["resourceArn"])
        tags = dict(repository.tags)
        tags.update(self._tag_map(params["tags"]))
        if len(tags) > MAX_TAGS:
            raise ApiError("TooManyTagsException",
                           f"a repository can have at most {MAX_TAGS} tags, got {len(tags)}")
        self.state.update_repository(repository.name, tags=tags)
        return {}

    def UntagResource(self, context, params):
        repository = self._repository_for_arn(params["resourceArn"])
        tags = {key: value for key, value in repository.tags.items()
                if key not in params["tagKeys"]}
        self.state.update_repository(repository.name, tags=tags)
        return {}

    def ListTagsForResource(self, context, params):
        repository = self._repository_for_arn(params["resourceArn"])
        return {"tags": [{"Key": key, "Value": value} for key, value in repository.tags.items()]}

    # Images.

    @staticmethod
    def _filter_status(params):
        return (params.get("filter") or {}).get("tagStatus", "ANY")

    def ListImages(self, context, params):
        repository = self._repository(params)
        status = self._filter_status(params)
        image_ids = []
        for image in self.storage.images(repository.name):
            if image.tags and status in ("TAGGED", "ANY"):
                image_ids.extend({"imageDigest": image.digest, "imageTag": tag}
                                 for tag in image.tags)
            elif not image.tags and status in ("UNTAGGED", "ANY"):
                image_ids.append({"imageDigest": image.digest})
        page, next_token = paginate(image_ids, params, "ListImages",
                                    f"{repository.name}|{status}")
        return _with_next_token({"imageIds": page}, next_token)

    def _image_detail(self, repository, image):
        detail = {
            "registryId": self.state.account_id,
            "repositoryName": repository.name,
            "imageDigest": image.digest,
            "imageSizeInBytes": image.size,
            "imagePushedAt": _epoch(image.pushed_at),
            "imageManifestMediaType": image.media_type,
        }
        if image.tags:
            detail["imageTags"] = list(image.tags)
        if image.artifact_media_type:
            detail["artifactMediaType"] = image.artifact_media_type
        return detail

    def _find_image(self, repository, images, image_id):
        """Return the StoredImage an imageId names, or raise ImageNotFoundException."""
        digest = image_id.get("imageDigest")
        tag = image_id.get("imageTag")
        if digest is None and tag is None:
            raise _invalid_parameter("Invalid parameter at 'imageIds': an imageId needs an "
                                     "imageDigest or an imageTag")
        for image in images:
            if digest is not None and image.digest != digest:
                continue
            if tag is not None and tag not in image.tags:
                continue
            return image
        raise ApiError("ImageNotFoundException",
                       f"The image with imageId {_image_id_text(image_id)} does not exist "
                       f"within the repository with name '{repository.name}' in the registry "
                       f"with id '{self.state.account_id}'")

    def DescribeImages(self, context, params):
        repository = self._repository(params)
        images = self.storage.images(repository.name)
        if params.get("imageIds") is not None:
            if "maxResults" in params or "nextToken" in params:
                raise _invalid_parameter("maxResults and nextToken cannot be used together "
                                         "with imageIds")
            selected = {}
            for image_id in params["imageIds"]:
                image = self._find_image(repository, images, image_id)
                selected.setdefault(image.digest, image)
            return {"imageDetails": [self._image_detail(repository, image)
                                     for image in selected.values()]}

        status = self._filter_status(params)
        details = [self._image_detail(repository, image) for image in images
                   if status == "ANY" or (status == "TAGGED") == bool(image.tags)]
        page, next_token = paginate(details, params, "DescribeImages",
                                    f"{repository.name}|{status}")
        return _with_next_token({"imageDetails": page}, next_token)

    def BatchGetImage(self, context, params):
        # NOTE: acceptedMediaTypes is not applied. Every manifest is returned
        # in the form it was pushed.
        repository = self._repository(params)
        images = self.storage.images(repository.name)
        found, failures = [], []
        for image_id in params["imageIds"]:
            try:
                image = self._find_image(repository, images, image_id)
            except ApiError:
                failures.append(_failure(image_id, "ImageNotFound", "Requested image not found"))
                continue
            found.append({
                "registryId": self.state.account_id,
                "repositoryName": repository.name,
                "imageId": {"imageDigest": image.digest, **(
                    {"imageTag": image_id["imageTag"]} if "imageTag" in image_id else {})},
                "imageManifest": image.manifest.decode("utf-8"),
                "imageManifestMediaType": image.media_type,
            })
        return {"images": found, "failures": failures}

    def _referencing_indexes(self, images, digest, deleted):
        """Return digests of indexes in the repository that list digest and stay."""
        referrers = []
        for image in images:
            if image.digest in deleted or image.digest == digest:
                continue
            document = json.loads(image.manifest)
            if any(child.get("digest") == digest for child in document.get("manifests") or []):
                referrers.append(image.digest)
        return referrers

    def BatchDeleteImage(self, context, params):
        repository = self._repository(params)
        images = self.storage.images(repository.name)
        by_digest = {image.digest: image for image in images}
        deleted_ids, failures, deleted_digests = [], [], set()

        for image_id in params["imageIds"]:
            digest = image_id.get("imageDigest")
            tag = image_id.get("imageTag")
            if digest is None and tag is None:
                failures.append(_failure(image_id, "MissingDigestAndTag",
                                         "Invalid request parameters: both tag and digest "
                                         "cannot be null"))
                continue
            if digest is not None and not _DIGEST.match(digest):
                failures.append(_failure(image_id, "InvalidImageDigest",
                                         f"Invalid image digest '{digest}'"))
                continue
            tags_now = self.storage.tags(repository.name)
            if digest is None:
                digest = tags_now.get(tag)
            image = by_digest.get(digest)
            if image is None or digest in deleted_digests:
                failures.append(_failure(image_id, "ImageNotFound", "Requested image not found"))
                continue
            if tag is not None and tags_now.get(tag) != digest:
                failures.append(_failure(image_id, "ImageTagDoesNotMatchDigest",
                                         f"Invalid tag '{tag}' for image digest '{digest}'"))
                continue

            remaining_tags = [name for name, target in tags_now.items()
                              if target == digest and name != tag]
            if tag is not None and "imageDigest" not in image_id and remaining_tags:
                # Deleting one of several tags only removes that tag.
                self.storage.delete_tag(repository.name, tag)
                deleted_ids.append({"imageDigest": digest, "imageTag": tag})
                continue

            referrers = self._referencing_indexes(images, digest, deleted_digests)
            if referrers:
                failures.append(_failure(image_id, "ImageReferencedByManifestList",
                                         f"Requested image referenced by manifest list: "
                                         f"{referrers}"))
                continue
            self.storage.delete_manifest(repository.name, digest)
            deleted_digests.add(digest)
            all_tags = [name for name, target in tags_now.items() if target == digest]
            if all_tags:
                deleted_ids.extend({"imageDigest": digest, "imageTag": name} for name in all_tags)
            else:
                deleted_ids.append({"imageDigest": digest})
        return {"imageIds": deleted_ids, "failures": failures}


class SecretsManagerOperations:
    """GetSecretValue over the secrets a test preloaded."""

    def __init__(self, state):
        self.state = state

    def add_secret(self, name, value, region):
        """Store a secret (str or bytes) and return its ARN."""
        # Secrets Manager ends a secret's ARN with '-' and six random characters.
        suffix = secrets.token_hex(3)
        arn = f"arn:aws:secretsmanager:{region}:{self.state.account_id}:secret:{name}-{suffix}"
        is_text = isinstance(value, str)
        self.state.add_secret(Secret(
            name=name, arn=arn, version_id=str(uuid.uuid4()), created_at=time.time(),
            string_value=value if is_text else None,
            binary_value=None if is_text else bytes(value)))
        return arn

    def GetSecretValue(self, context, params):
        secret = self.state.find_secret(params["SecretId"])
        if secret is None:
            raise ApiError("ResourceNotFoundException",
                           "Secrets Manager can't find the specified secret.")
        stage = params.get("VersionStage")
        if stage is not None and stage != "AWSCURRENT":
            raise ApiError("ResourceNotFoundException",
                           f"Secrets Manager can't find the specified secret value for staging "
                           f"label: {stage}")
        version_id = params.get("VersionId")
        if version_id is not None and version_id != secret.version_id:
            raise ApiError("ResourceNotFoundException",
                           f"Secrets Manager can't find the specified secret value for "
                           f"VersionId: {version_id}")
        result = {"ARN": secret.arn, "Name": secret.name, "VersionId": secret.version_id,
                  "VersionStages": ["AWSCURRENT"], "CreatedDate": _epoch(secret.created_at)}
        if secret.string_value is not None:
            result["SecretString"] = secret.string_value
        else:
            result["SecretBinary"] = base64.b64encode(secret.binary_value).decode("ascii")
        return result
